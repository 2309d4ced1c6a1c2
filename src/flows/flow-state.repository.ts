import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { FlowStateRecord } from '../persistence/entities.js';
import { Store } from '../persistence/store.js';
import type { DeadlineChanges } from '../schedule/deadline.js';
import { DeadlineRepository } from '../schedule/deadline.repository.js';

export interface StoredFlow {
  actor: string;
  machine: string;
  version: number;
  snapshot: unknown;
}

/**
 * Flow actors' persisted state, `{machine, version, snapshot}` per actor of a branch. An actor's state and the
 * deadlines it set or dropped are stored in one transaction, so a restart never finds one without the other.
 */
@Injectable()
export class FlowStateRepository {
  constructor(
    private readonly store: Store,
    private readonly deadlines: DeadlineRepository,
  ) {}

  async all(branchId: string): Promise<StoredFlow[]> {
    return this.store.manager.findBy(FlowStateRecord, { branchId });
  }

  /** Stores the actor (or, with `null`, forgets actor `actor`: it is done) with its deadline changes. */
  save(branchId: string, actor: string, flow: StoredFlow | null, at: string, changes: DeadlineChanges): Promise<unknown> {
    const write = async (em: EntityManager) => {
      if (flow) await this.store.upsert(em, FlowStateRecord, [{ branchId, ...flow, updatedAt: at }], ['branchId', 'actor']);
      else await em.delete(FlowStateRecord, { branchId, actor });
      await this.deadlines.apply(em, changes);
    };
    // Most events change the snapshot alone: one statement, no transaction around it.
    return changes.set.length || changes.clear.length ? this.store.transaction(write) : this.store.write(write);
  }
}
