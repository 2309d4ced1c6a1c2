import { Injectable } from '@nestjs/common';
import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import { upsertAll } from './batch.js';
import { Store } from './store.js';

interface Op {
  entity: EntityTarget<ObjectLiteral>;
  conflict: string[];
  key: Record<string, unknown>;
  /** The whole row to upsert; null: delete the row with `key`. */
  row: ObjectLiteral | null;
}

interface Batch {
  ops: Map<string, Op>;
  committed: Promise<void>;
  settle: (e?: unknown) => void;
}

/**
 * Rows of latest values — a device's state, a flow actor's snapshot and its deadlines, an hour's footfall — put
 * or deleted by key and stored by group commit: whatever was asked while the previous commit ran goes in the
 * next one, as one transaction with a statement per table and shape, not one transaction per message
 * (design.md, the hot path). A key asked twice before its commit is written once, as last asked; commits run
 * one after another, so a later put of a key never lands before an earlier one. Each caller's promise
 * resolves once its rows are committed (or rejects with the commit's error).
 */
@Injectable()
export class GroupCommit {
  private next: Batch | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly store: Store) {}

  put<T extends ObjectLiteral>(entity: EntityTarget<T>, conflict: (keyof T & string)[], row: Partial<T>): Promise<void> {
    const key = Object.fromEntries(conflict.map((c) => [c, row[c]]));
    return this.add({ entity, conflict, key, row });
  }

  remove<T extends ObjectLiteral>(entity: EntityTarget<T>, key: Partial<T>): Promise<void> {
    return this.add({ entity, conflict: Object.keys(key), key, row: null });
  }

  /** Resolves once everything asked so far is committed or failed (shutdown, tests). */
  async flushed(): Promise<void> {
    while (this.running) await this.running;
  }

  private add(op: Op): Promise<void> {
    const batch = (this.next ??= this.newBatch());
    batch.ops.set(`${this.store.entityName(op.entity)}\u0000${JSON.stringify(op.key)}`, op);
    if (!this.running) this.running = this.commitNext();
    return batch.committed;
  }

  private newBatch(): Batch {
    let settle!: (e?: unknown) => void;
    const committed = new Promise<void>((resolve, reject) => (settle = (e) => (e === undefined ? resolve() : reject(e))));
    committed.catch(() => undefined); // each caller sees the error through its own await
    return { ops: new Map(), committed, settle };
  }

  /** Commits batch after batch while there is one; what is asked meanwhile waits for the next. */
  private async commitNext(): Promise<void> {
    // Let the turns already queued on this tick join the batch.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.next) {
      const batch = this.next;
      this.next = undefined;
      try {
        await this.store.transaction((em) => this.write(em, [...batch.ops.values()]));
        batch.settle();
      } catch (e) {
        batch.settle(e);
      }
    }
    this.running = undefined;
  }

  private async write(em: EntityManager, ops: Op[]): Promise<void> {
    for (const op of ops) if (!op.row) await em.delete(op.entity, op.key);
    const shapes = new Map<string, Op[]>();
    for (const op of ops) {
      if (!op.row) continue;
      const shape = `${this.store.entityName(op.entity)}\u0000${Object.keys(op.row).sort().join(',')}`;
      const same = shapes.get(shape);
      if (same) same.push(op);
      else shapes.set(shape, [op]);
    }
    for (const same of shapes.values()) await upsertAll(em, same[0].entity, same.map((o) => o.row!), same[0].conflict);
  }
}
