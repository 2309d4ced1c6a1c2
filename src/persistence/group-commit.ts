import { Injectable } from '@nestjs/common';
import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import { chunks, rowChunks } from './batch.js';
import { deleteKeys, insertRows } from './row-statements.js';
import type { Statement } from './sql-script.js';
import { Store } from './store.js';

interface Op {
  entity: EntityTarget<ObjectLiteral>;
  /** Empty for a row appended (`insert`). */
  conflict: string[];
  /** The key of a row deleted; null for a row put or appended. */
  key: Record<string, unknown> | null;
  /** The whole row to upsert; null: delete the row with `key`. */
  row: ObjectLiteral | null;
  /** The columns a row already stored takes (default: all given). */
  update?: string[];
}

type Work = (em: EntityManager) => Promise<void>;

/** What one caller asked together: stored whole or not at all. */
interface Unit {
  /** Each row with its id (`add`), in the order asked: merged by id only when the commit is written. */
  ops: [string, Op][];
  /** Run after the rows, in the order asked (still one call on SQLite). */
  statements: Statement[];
  /** Run in the transaction after the rows and statements. */
  works: Work[];
  committed: Promise<void>;
  settle: (e?: unknown) => void;
  /** Nobody waits for it: it may wait up to LAZY_MS for company. */
  lazy: boolean;
}

/**
 * How long rows nobody waits for (`later`) wait for company: a unit someone waits for, or LAZY_MS. Without it, a
 * branch's stream of signals is a commit of one or two rows every few hundred µs — BEGIN, COMMIT and a statement per
 * table each time, the hub's main cost under ingest (BENCHMARKS.md, issue 12 part 4). Real ms, not the hub's clock:
 * it paces writes to the disk, not anything in the branch's day.
 */
export const LAZY_MS = 20;

/**
 * Rows of latest values — a device's state, a flow actor's snapshot and its deadlines, an hour's footfall, a task's
 * step, the analytics' buckets — put or deleted by key, and rows appended (transitions, raw tracks), stored by group
 * commit: whatever all callers asked while the previous commit ran goes in the next one, as one transaction with a
 * statement per table and shape, not one transaction per message (design.md, the hot path). A key asked twice before
 * its commit is written once, as last asked; commits run one after another, so a later put of a key never lands
 * before an earlier one. What a caller asks inside `together` is one unit; each call outside it is a unit of its own.
 * A unit's promise resolves once its rows are committed. When a commit fails, each of its units is tried again in a
 * transaction of its own, so one caller's bad row is that caller's error only. Units asked with `later` (latest values,
 * analytics: nothing that leaves the hub waits for them) are committed with the next unit someone waits for, or after
 * LAZY_MS: a kill -9 may lose that much of them.
 */
@Injectable()
export class GroupCommit {
  private next: Unit[] = [];
  private running: Promise<void> | undefined;
  /** The unit `together` is filling. */
  private filling: Unit | undefined;
  private appended = 0;
  /** Ends the wait of lazy units for company. */
  private hurry: (() => void) | undefined;
  /** Callers of `flushed` waiting: lazy units do not wait for company meanwhile. */
  private flushing = 0;

  constructor(private readonly store: Store) {}

  /** Everything `ask` asks (synchronously) is one unit: committed whole, in one transaction, or not at all. */
  together(ask: () => void): Promise<void> {
    return this.ask(ask, false);
  }

  /** Like `together`, for rows nobody waits for: they may wait up to LAZY_MS to be committed with others. */
  later(ask: () => void): Promise<void> {
    return this.ask(ask, true);
  }

  private ask(ask: () => void, lazy: boolean): Promise<void> {
    const unit = this.newUnit(lazy);
    this.filling = unit;
    try {
      ask();
    } finally {
      this.filling = undefined;
    }
    return unit.committed;
  }

  /** The row put by key: inserted, or a stored one updated — with every column given, or only those of `update`. */
  put<T extends ObjectLiteral>(entity: EntityTarget<T>, conflict: (keyof T & string)[], row: Partial<T>, update?: (keyof T & string)[]): Promise<void> {
    return this.add({ entity, conflict, key: null, row, update }, conflict.map((c) => row[c]));
  }

  remove<T extends ObjectLiteral>(entity: EntityTarget<T>, key: Partial<T>): Promise<void> {
    return this.add({ entity, conflict: Object.keys(key), key, row: null }, Object.values(key));
  }

  /** A row appended: it has no key, so nothing merges with it. */
  insert<T extends ObjectLiteral>(entity: EntityTarget<T>, row: Partial<T>): Promise<void> {
    return this.add({ entity, conflict: [], key: null, row }, [++this.appended]);
  }

  /** Statements that must commit with the rows of its unit, after them (an outbox event, numbered by the database). */
  execute(statements: Statement[]): Promise<void> {
    const unit = this.filling ?? this.newUnit(false);
    unit.statements.push(...statements);
    return unit.committed;
  }

  /** Work that must commit with the rows of its unit, after its statements (it may read). */
  run(work: Work): Promise<void> {
    const unit = this.filling ?? this.newUnit(false);
    unit.works.push(work);
    return unit.committed;
  }

  /** Resolves once everything asked so far is committed or failed (shutdown, tests). */
  async flushed(): Promise<void> {
    this.flushing++;
    this.hurry?.();
    try {
      while (this.running) await this.running;
    } finally {
      this.flushing--;
    }
  }

  /** `keyValues` in the order of the entity's key columns, the same for its puts and removes. */
  private add(op: Op, keyValues: unknown[]): Promise<void> {
    const unit = this.filling ?? this.newUnit(false);
    // Each value length-prefixed: no two keys read the same (cheaper than JSON.stringify, once per row on the hot path).
    let id = this.store.entityName(op.entity);
    for (const v of keyValues) {
      const text = String(v);
      id += `\u0000${text.length}:${text}`;
    }
    unit.ops.push([id, op]);
    return unit.committed;
  }

  /** A unit queued for the next commit. */
  private newUnit(lazy: boolean): Unit {
    let settle!: (e?: unknown) => void;
    const committed = new Promise<void>((resolve, reject) => (settle = (e) => (e === undefined ? resolve() : reject(e))));
    committed.catch(() => undefined); // each caller sees the error through its own await
    const unit: Unit = { ops: [], statements: [], works: [], committed, settle, lazy };
    this.next.push(unit);
    if (!lazy) this.hurry?.();
    this.running ??= this.commitNext();
    return unit;
  }

  /** Resolves once a unit someone waits for is asked, `flushed` is called, or LAZY_MS passed. */
  private company(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.hurry?.(), LAZY_MS);
      this.hurry = () => {
        clearTimeout(timer);
        this.hurry = undefined;
        resolve();
      };
    });
  }

  /** Commits what is queued, commit after commit, while there is some; what is asked meanwhile waits for the next. */
  private async commitNext(): Promise<void> {
    // Let the turns already queued on this tick join the commit.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.next.length) {
      if (!this.flushing && this.next.every((u) => u.lazy)) await this.company();
      const units = this.next.splice(0);
      try {
        await this.writeUnits(units);
        for (const u of units) u.settle();
      } catch (e) {
        if (units.length === 1) units[0].settle(e);
        else for (const u of units) await this.commitAlone(u);
      }
    }
    this.running = undefined;
  }

  private async commitAlone(unit: Unit): Promise<void> {
    try {
      await this.writeUnits([unit]);
      unit.settle();
    } catch (e) {
      unit.settle(e);
    }
  }

  /** The units' rows merged (a key asked by several units: as the last one asked it), then their work, in order. */
  private writeUnits(units: Unit[]): Promise<void> {
    const ops = new Map<string, Op>();
    for (const u of units) for (const [id, op] of u.ops) ops.set(id, op);
    const works = units.flatMap((u) => u.works);
    const statements = [...this.statements([...ops.values()]), ...units.flatMap((u) => u.statements)];
    return this.store.writeAll(statements, works.length ? async (em) => { for (const work of works) await work(em); } : undefined);
  }

  private statements(ops: Op[]): Statement[] {
    const out = this.removals(ops.filter((op) => !op.row));
    const shapes = new Map<string, Op[]>();
    for (const op of ops) {
      if (!op.row) continue;
      // Columns in the order given: rows built by the same code agree; two orders of one set only make two statements.
      const shape = `${this.store.entityName(op.entity)}\u0000${Object.keys(op.row).join(',')}\u0000${op.update?.join(',') ?? ''}`;
      const same = shapes.get(shape);
      if (same) same.push(op);
      else shapes.set(shape, [op]);
    }
    for (const same of shapes.values()) {
      const [{ entity, conflict, update }] = same;
      const rows = same.map((o) => o.row!);
      for (const part of rowChunks(rows)) out.push(insertRows(this.store.manager, entity, part, conflict, update));
    }
    return out;
  }

  /** Rows deleted a statement per table, key columns and chunk: `IN (…)` for a one-column key, `OR`ed keys for several. */
  private removals(ops: Op[]): Statement[] {
    const byColumns = new Map<string, Op[]>();
    for (const op of ops) {
      const id = `${this.store.entityName(op.entity)}\u0000${op.conflict.join(',')}`;
      const same = byColumns.get(id);
      if (same) same.push(op);
      else byColumns.set(id, [op]);
    }
    const out: Statement[] = [];
    for (const same of byColumns.values()) {
      const columns = same[0].conflict;
      // An `OR` chain deeper than SQLite's expression depth (1,000) is refused.
      for (const part of chunks(same, columns.length === 1 ? 10_000 : 100)) {
        out.push(deleteKeys(this.store.manager, same[0].entity, part.map((o) => o.key!)));
      }
    }
    return out;
  }
}
