import { Injectable } from '@nestjs/common';
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
    return this.store.transaction(async (em) => {
      if (flow) await em.save(FlowStateRecord, { branchId, ...flow, updatedAt: at });
      else await em.delete(FlowStateRecord, { branchId, actor });
      for (const d of changes.set) await this.deadlines.put(em, d);
      for (const key of changes.clear) await this.deadlines.remove(em, key);
    });
  }
}
