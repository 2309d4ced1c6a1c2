import { Injectable } from '@nestjs/common';
import { In, type EntityManager, type EntityTarget, type ObjectLiteral } from 'typeorm';
import { chunks, upsertAll } from './batch.js';
import { Store } from './store.js';

interface Op {
  entity: EntityTarget<ObjectLiteral>;
  /** Empty for a row appended (`insert`). */
  conflict: string[];
  key: Record<string, unknown>;
  /** The whole row to upsert; null: delete the row with `key`. */
  row: ObjectLiteral | null;
}

interface Batch {
  ops: Map<string, Op>;
  /** Run in the batch's transaction after its rows. */
  works: ((em: EntityManager) => Promise<void>)[];
  committed: Promise<void>;
  settle: (e?: unknown) => void;
}

/**
 * Rows of latest values — a device's state, a flow actor's snapshot and its deadlines, an hour's footfall, the
 * analytics' buckets — put or deleted by key, and rows appended (raw tracks), stored by group commit: whatever was asked while the previous commit ran goes in the
 * next one, as one transaction with a statement per table and shape, not one transaction per message
 * (design.md, the hot path). A key asked twice before its commit is written once, as last asked; commits run
 * one after another, so a later put of a key never lands before an earlier one. Each caller's promise
 * resolves once its rows are committed (or rejects with the commit's error).
 */
@Injectable()
export class GroupCommit {
  private next: Batch | undefined;
  private running: Promise<void> | undefined;
  private appended = 0;

  constructor(private readonly store: Store) {}

  put<T extends ObjectLiteral>(entity: EntityTarget<T>, conflict: (keyof T & string)[], row: Partial<T>): Promise<void> {
    const key = Object.fromEntries(conflict.map((c) => [c, row[c]]));
    return this.add({ entity, conflict, key, row });
  }

  remove<T extends ObjectLiteral>(entity: EntityTarget<T>, key: Partial<T>): Promise<void> {
    return this.add({ entity, conflict: Object.keys(key), key, row: null });
  }

  /** A row appended: it has no key, so nothing merges with it. */
  insert<T extends ObjectLiteral>(entity: EntityTarget<T>, row: Partial<T>): Promise<void> {
    return this.add({ entity, conflict: [], key: { appended: ++this.appended }, row });
  }

  /** Work that must commit with the rows asked beside it (an outbox event, numbered in the transaction). */
  run(work: (em: EntityManager) => Promise<void>): Promise<void> {
    const batch = this.batch();
    batch.works.push(work);
    return batch.committed;
  }

  /** Resolves once everything asked so far is committed or failed (shutdown, tests). */
  async flushed(): Promise<void> {
    while (this.running) await this.running;
  }

  private add(op: Op): Promise<void> {
    const batch = this.batch();
    batch.ops.set(`${this.store.entityName(op.entity)}\u0000${JSON.stringify(op.key)}`, op);
    return batch.committed;
  }

  /** The batch that takes what is asked now. */
  private batch(): Batch {
    const batch = (this.next ??= this.newBatch());
    if (!this.running) this.running = this.commitNext();
    return batch;
  }

  private newBatch(): Batch {
    let settle!: (e?: unknown) => void;
    const committed = new Promise<void>((resolve, reject) => (settle = (e) => (e === undefined ? resolve() : reject(e))));
    committed.catch(() => undefined); // each caller sees the error through its own await
    return { ops: new Map(), works: [], committed, settle };
  }

  /** Commits batch after batch while there is one; what is asked meanwhile waits for the next. */
  private async commitNext(): Promise<void> {
    // Let the turns already queued on this tick join the batch.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.next) {
      const batch = this.next;
      this.next = undefined;
      try {
        await this.store.transaction(async (em) => {
          await this.write(em, [...batch.ops.values()]);
          for (const work of batch.works) await work(em);
        });
        batch.settle();
      } catch (e) {
        batch.settle(e);
      }
    }
    this.running = undefined;
  }

  private async write(em: EntityManager, ops: Op[]): Promise<void> {
    await this.removeAll(em, ops.filter((op) => !op.row));
    const shapes = new Map<string, Op[]>();
    for (const op of ops) {
      if (!op.row) continue;
      const shape = `${this.store.entityName(op.entity)}\u0000${Object.keys(op.row).sort().join(',')}`;
      const same = shapes.get(shape);
      if (same) same.push(op);
      else shapes.set(shape, [op]);
    }
    for (const same of shapes.values()) {
      const [{ entity, conflict }] = same;
      const rows = same.map((o) => o.row!);
      if (conflict.length) await upsertAll(em, entity, rows, conflict);
      else for (const part of chunks(rows)) await em.createQueryBuilder().insert().into(entity).values(part).updateEntity(false).execute();
    }
  }

  /** Rows deleted by a one-column key: a statement per table and chunk; by a key of several columns, one each. */
  private async removeAll(em: EntityManager, ops: Op[]): Promise<void> {
    const byColumn = new Map<string, Op[]>();
    for (const op of ops) {
      const columns = Object.keys(op.key);
      if (columns.length !== 1) {
        await em.delete(op.entity, op.key);
        continue;
      }
      const id = `${this.store.entityName(op.entity)}\u0000${columns[0]}`;
      byColumn.set(id, [...(byColumn.get(id) ?? []), op]);
    }
    for (const same of byColumn.values()) {
      const [column] = Object.keys(same[0].key);
      for (const part of chunks(same, 500)) await em.delete(same[0].entity, { [column]: In(part.map((o) => o.key[column])) });
    }
  }
}
