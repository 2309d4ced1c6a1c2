import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import { KeyedQueue } from '../keyed-queue.js';

/**
 * Where repositories write: one transaction per unit of work. TypeORM's SQLite driver shares one
 * connection (and one query runner) between all callers, so two transactions at once would nest into
 * each other's savepoints; on SQLite they run one at a time. PostgreSQL's pool runs them side by side.
 */
@Injectable()
export class Store {
  private readonly oneAtATime: boolean;
  private readonly writes = new KeyedQueue();
  /** What to do once a transaction has committed, by its entity manager. */
  private readonly afterCommits = new WeakMap<EntityManager, (() => void)[]>();

  constructor(@InjectDataSource() private readonly db: DataSource) {
    this.oneAtATime = db.options.type === 'sqlite';
  }

  transaction<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    const run = async () => {
      let tx: EntityManager | undefined;
      const result = await this.db.transaction((em) => work((tx = em)));
      for (const hook of (tx && this.afterCommits.get(tx)) ?? []) hook();
      return result;
    };
    return this.oneAtATime ? this.writes.run('db', run) : run();
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

  /** An entity's table: what tells rows of two entities apart. */
  entityName(entity: EntityTarget<ObjectLiteral>): string {
    return this.db.getMetadata(entity).tableName;
  }

  private outsideTransactions<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.oneAtATime ? this.writes.run('db', () => work(this.db.manager)) : work(this.db.manager);
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
