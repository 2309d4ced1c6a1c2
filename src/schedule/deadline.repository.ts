import { Injectable } from '@nestjs/common';
import { In, type EntityManager } from 'typeorm';
import { chunks, upsertAll } from '../persistence/batch.js';
import { DeadlineRecord } from '../persistence/entities.js';
import { GroupCommit } from '../persistence/group-commit.js';
import { Store } from '../persistence/store.js';
import type { Deadline, DeadlineChanges } from './deadline.js';

/**
 * Durable deadlines. Writes take the caller's transaction, or go by group commit beside the rows of the state they
 * belong to (in the caller's unit, `GroupCommit.together`), so a deadline is stored with its state.
 */
@Injectable()
export class DeadlineRepository {
  constructor(
    private readonly store: Store,
    private readonly commits: GroupCommit,
  ) {}

  all(): Promise<Deadline[]> {
    return this.store.manager.find(DeadlineRecord, { order: { dueAt: 'ASC' } }) as Promise<Deadline[]>;
  }

  /** Those of these keys that are stored. */
  async findMany(keys: string[]): Promise<Deadline[]> {
    const found: Deadline[] = [];
    for (const part of chunks(keys, 500)) found.push(...((await this.store.manager.findBy(DeadlineRecord, { key: In(part) })) as Deadline[]));
    return found;
  }

  put(em: EntityManager, d: Deadline): Promise<unknown> {
    return upsertAll(em, DeadlineRecord, [{ ...d }], ['key']);
  }

  /** Deadlines set and dropped together, a statement each (a key both set and dropped ends up dropped). */
  async apply(em: EntityManager, changes: DeadlineChanges): Promise<void> {
    await upsertAll(em, DeadlineRecord, changes.set.filter((d) => !changes.clear.includes(d.key)).map((d) => ({ ...d })), ['key']);
    if (changes.clear.length) await em.delete(DeadlineRecord, { key: In(changes.clear) });
  }

  /** Asks the group commit to set and drop them, in the caller's unit (`GroupCommit.together`); a key both set and dropped ends up dropped. */
  ask(changes: DeadlineChanges): void {
    for (const d of changes.set) if (!changes.clear.includes(d.key)) void this.commits.put(DeadlineRecord, ['key'], { ...d });
    for (const key of changes.clear) void this.commits.remove(DeadlineRecord, { key });
  }

  /** Many at once (start-up): one statement per chunk. */
  putAll(em: EntityManager, ds: Deadline[]): Promise<void> {
    return upsertAll(em, DeadlineRecord, ds, ['key']);
  }

  async removeAll(em: EntityManager, keys: string[]): Promise<void> {
    for (const part of chunks(keys, 500)) await em.delete(DeadlineRecord, { key: In(part) });
  }

  remove(em: EntityManager, key: string): Promise<unknown> {
    return em.delete(DeadlineRecord, { key });
  }

  /** Removes a deadline that fired, unless it was moved meanwhile (same key, later time). */
  removeFired(d: Deadline): Promise<unknown> {
    return this.store.transaction((em) => em.delete(DeadlineRecord, { key: d.key, dueAt: d.dueAt }));
  }
}
