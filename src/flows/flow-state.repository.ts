import { Injectable } from '@nestjs/common';
import { In, type EntityManager } from 'typeorm';
import { byBranch, upsertAll } from '../persistence/batch.js';
import { FlowStateRecord } from '../persistence/entities.js';
import { GroupCommit } from '../persistence/group-commit.js';
import { Store } from '../persistence/store.js';
import type { Deadline, DeadlineChanges } from '../schedule/deadline.js';
import { DeadlineRepository } from '../schedule/deadline.repository.js';

export interface StoredFlow {
  actor: string;
  machine: string;
  version: number;
  snapshot: unknown;
}

/** A save made while start-up holds them. */
interface Held {
  branchId: string;
  actor: string;
  flow: StoredFlow | null | undefined;
  at: string;
  changes: DeadlineChanges;
}

/**
 * Flow actors' persisted state, `{machine, version, snapshot}` per actor of a branch. An actor's state and the
 * deadlines it set or dropped go in the same group commit (one transaction), so a restart never finds one
 * without the other.
 */
@Injectable()
export class FlowStateRepository {
  private held: Held[] | null = null;

  constructor(
    private readonly store: Store,
    private readonly commits: GroupCommit,
    private readonly deadlines: DeadlineRepository,
  ) {}

  /** Each branch's actors, for start-up: one query for all of them. */
  async byBranch(branchIds: string[]): Promise<Map<string, StoredFlow[]>> {
    return byBranch(branchIds, (ids) => this.store.manager.findBy(FlowStateRecord, { branchId: In(ids) }));
  }

  /** One actor as stored, if it is. */
  async find(branchId: string, actor: string): Promise<StoredFlow | null> {
    const row = await this.store.manager.findOneBy(FlowStateRecord, { branchId, actor });
    return row && { actor: row.actor, machine: row.machine, version: row.version, snapshot: row.snapshot };
  }

  /**
   * Stores the actor (with `null`, forgets actor `actor`: it is done; with `undefined`, leaves its row as it is) with its
   * deadline changes; resolves once committed (`later`: within LAZY_MS, or with a commit someone waits for).
   */
  async save(branchId: string, actor: string, flow: StoredFlow | null | undefined, at: string, changes: DeadlineChanges): Promise<void> {
    if (this.held) {
      this.held.push({ branchId, actor, flow, at, changes });
      return;
    }
    await this.commits.later(() => {
      if (flow) void this.commits.put(FlowStateRecord, ['branchId', 'actor'], { branchId, ...flow, updatedAt: at });
      else if (flow === null) void this.commits.remove(FlowStateRecord, { branchId, actor });
      this.deadlines.ask(changes);
    });
  }

  /**
   * Start-up: from now on saves are held, and answered at once, until `takeHeld` ends it. Branches loads every
   * branch in between, before any deadline is handled: a thousand new actors are then one write, not a thousand.
   */
  hold(): void {
    this.held ??= [];
  }

  /**
   * Ends holding (saves are written one by one again) and returns the writer of what was held, for a transaction:
   * for each actor and each deadline, its last word, one statement per chunk. The writer only writes, so the
   * transaction may run it again.
   */
  takeHeld(): (em: EntityManager) => Promise<void> {
    const flows = new Map<string, Held>();
    const deadlines = new Map<string, Deadline | null>();
    for (const h of this.held ?? []) {
      if (h.flow !== undefined) flows.set(JSON.stringify([h.branchId, h.actor]), h);
      for (const d of h.changes.set) deadlines.set(d.key, d);
      for (const key of h.changes.clear) deadlines.set(key, null);
    }
    this.held = null;
    const kept = [...flows.values()].filter((h) => h.flow).map((h) => ({ branchId: h.branchId, ...h.flow!, updatedAt: h.at }));
    return async (em) => {
      await upsertAll(em, FlowStateRecord, kept, ['branchId', 'actor']);
      for (const h of flows.values()) if (!h.flow) await em.delete(FlowStateRecord, { branchId: h.branchId, actor: h.actor });
      await this.deadlines.putAll(em, [...deadlines.values()].filter((d) => d !== null));
      await this.deadlines.removeAll(em, [...deadlines].filter(([, d]) => d === null).map(([key]) => key));
    };
  }
}
