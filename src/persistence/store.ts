import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
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
  private readonly committed: (() => void)[] = [];

  constructor(@InjectDataSource() private readonly db: DataSource) {
    this.oneAtATime = db.options.type === 'sqlite';
  }

  transaction<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    const run = async () => {
      const result = await this.db.transaction(work);
      for (const listener of this.committed) listener();
      return result;
    };
    return this.oneAtATime ? this.writes.run('db', run) : run();
  }

  /** Told after every committed transaction (e.g. the uplink: new outbox rows are visible to its sender now). */
  onCommit(listener: () => void): void {
    this.committed.push(listener);
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
