import { Injectable, Logger } from '@nestjs/common';
import type { Database } from 'sqlite3';
import { DataSource, type EntityManager, type EntityTarget, type ObjectLiteral } from 'typeorm';
import { scriptOf, type Statement } from './sql-script.js';

/** A caller's unit of work, waiting for its turn on SQLite's one connection. */
interface Unit {
  work: (em: EntityManager) => Promise<unknown>;
  /** A single statement or a read: alone, it runs without BEGIN/COMMIT. */
  plain: boolean;
  resolve: (result: unknown) => void;
  reject: (e: unknown) => void;
}

/** Units queued behind a running commit that go into the next one together (bounds how long one holds the connection). */
const MAX_UNITS_PER_COMMIT = 100;

/**
 * Where repositories write: one transaction per unit of work. TypeORM's SQLite driver shares one
 * connection (and one query runner) between all callers, so two transactions at once would nest into
 * each other's savepoints; on SQLite they run one at a time, and the units that queued up while one
 * committed go into the next transaction together, in order (a group commit: under load, BEGIN and COMMIT
 * are two of every four statements the hub sends — BENCHMARKS.md, issue 12 part 3). Each caller's promise
 * settles once its transaction committed; a failure is its caller's alone (`runTogether`). PostgreSQL's pool
 * runs transactions side by side.
 */
@Injectable()
export class Store {
  private readonly logger = new Logger(Store.name);
  private readonly oneAtATime: boolean;
  private readonly queue: Unit[] = [];
  private draining = false;
  /** What to do once a transaction has committed, by its entity manager. */
  private readonly afterCommits = new WeakMap<EntityManager, (() => void)[]>();

  constructor(private readonly db: DataSource) {
    this.oneAtATime = db.options.type === 'sqlite';
  }

  transaction<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.oneAtATime ? this.enqueue(work, false) : this.inTransaction(work);
  }

  /** Runs `hook` once the transaction of `em` has committed (never if it rolls back). */
  afterCommit(em: EntityManager, hook: () => void): void {
    this.afterCommits.set(em, [...(this.afterCommits.get(em) ?? []), hook]);
  }

  /**
   * A read that must not see another caller's uncommitted writes: on SQLite every caller shares one connection,
   * so it waits its turn behind the transactions; PostgreSQL reads committed data anyway.
   */
  read<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.outsideTransactions(work);
  }

  /**
   * One statement, atomic by itself, without BEGIN/COMMIT round trips: on SQLite it waits for the transactions
   * before it (else it would run inside another caller's).
   */
  write<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.outsideTransactions(work);
  }

  /**
   * Statements as one transaction, `then` after them in it. On SQLite they go to the driver as one script, their values
   * inlined, run back to back on its thread: each statement sent alone is a round trip through the event loop, and
   * under load a commit lasted as many of them as it had statements while a greet's task commit waited behind it
   * (BENCHMARKS.md, issue 12 part 6). Without `then` the script is the whole transaction (SAVEPOINT … RELEASE: its own,
   * or nested in the one it is batched into), one call. PostgreSQL: a statement at a time.
   */
  writeAll(statements: Statement[], then?: (em: EntityManager) => Promise<void>): Promise<void> {
    if (this.oneAtATime && !then) return this.enqueue(() => this.script(statements), true);
    return this.transaction(async (em) => {
      await this.execute(em, statements);
      await then?.(em);
    });
  }

  /** An entity's table: what tells rows of two entities apart. */
  entityName(entity: EntityTarget<ObjectLiteral>): string {
    return this.db.getMetadata(entity).tableName;
  }

  private outsideTransactions<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.oneAtATime ? this.enqueue(work, true) : work(this.db.manager);
  }

  private enqueue<T>(work: (em: EntityManager) => Promise<T>, plain: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, plain, resolve: resolve as (r: unknown) => void, reject });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    while (this.queue.length) {
      const units = this.queue.splice(0, MAX_UNITS_PER_COMMIT);
      if (units.length === 1) await this.runAlone(units[0]);
      else await this.runTogether(units);
    }
    this.draining = false;
  }

  /**
   * One transaction for all of `units`. When one throws, the batch rolls back, that unit's caller gets the error
   * and the others run again together (units only write, with what they do in memory in `afterCommit` hooks, so
   * running one again is safe). A failed COMMIT has no one unit to blame: each then runs alone.
   */
  private async runTogether(units: Unit[]): Promise<void> {
    let failed = -1;
    let committed: { result: unknown[]; em: EntityManager };
    try {
      committed = await this.commit(async (em) => {
        const out: unknown[] = [];
        for (const [i, u] of units.entries()) {
          failed = i;
          out.push(await u.work(em));
        }
        failed = -1;
        return out;
      });
    } catch (e) {
      if (failed < 0) for (const u of units) await this.runAlone(u);
      else {
        units[failed].reject(e);
        const rest = units.filter((_, i) => i !== failed);
        if (rest.length > 1) await this.runTogether(rest);
        else if (rest.length) await this.runAlone(rest[0]);
      }
      return;
    }
    this.afterCommitted(committed.em);
    units.forEach((u, i) => u.resolve(committed.result[i]));
  }

  private async runAlone(u: Unit): Promise<void> {
    try {
      u.resolve(await (u.plain ? u.work(this.db.manager) : this.inTransaction(u.work)));
    } catch (e) {
      u.reject(e);
    }
  }

  private async inTransaction<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    const { result, em } = await this.commit(work);
    this.afterCommitted(em);
    return result;
  }

  private async commit<T>(work: (em: EntityManager) => Promise<T>): Promise<{ result: T; em: EntityManager }> {
    let tx!: EntityManager;
    const result = await this.db.transaction((em) => work((tx = em)));
    return { result, em: tx };
  }

  private async execute(em: EntityManager, statements: Statement[]): Promise<void> {
    if (this.oneAtATime) {
      if (statements.length) await this.exec(scriptOf(statements));
    } else for (const { sql, params } of statements) await em.query(sql, params);
  }

  private async script(statements: Statement[]): Promise<void> {
    if (!statements.length) return;
    const body = scriptOf(statements);
    try {
      await this.exec(`SAVEPOINT group_commit;\n${body};\nRELEASE group_commit`);
    } catch (e) {
      // The script stops at the failing statement, inside the savepoint: undo what ran of it.
      await this.exec('ROLLBACK TO group_commit; RELEASE group_commit').catch((undo: Error) => this.logger.error(`rollback after a failed script: ${undo.message}`));
      throw e;
    }
  }

  /** SQLite's one connection (TypeORM's SQLite driver keeps exactly one). */
  private exec(sql: string): Promise<void> {
    const connection = (this.db.driver as unknown as { databaseConnection: Database }).databaseConnection;
    return new Promise((resolve, reject) => connection.exec(sql, (e) => (e ? reject(e) : resolve())));
  }

  /** A hook that throws is a bug of its own: it must not undo or repeat what was committed. */
  private afterCommitted(em: EntityManager): void {
    for (const hook of this.afterCommits.get(em) ?? []) {
      try {
        hook();
      } catch (e) {
        this.logger.error(`after-commit hook failed: ${(e as Error).stack ?? String(e)}`);
      }
    }
  }

  /** For reads. */
  get manager(): EntityManager {
    return this.db.manager;
  }

  ping(): Promise<boolean> {
    return this.db.query('SELECT 1').then(
      () => true,
      () => false,
    );
  }

  get type(): string {
    return this.db.options.type;
  }
}
