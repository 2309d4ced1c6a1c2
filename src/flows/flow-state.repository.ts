import { Injectable } from '@nestjs/common';
import { DeadlineRecord, FlowStateRecord } from '../persistence/entities.js';
import { GroupCommit } from '../persistence/group-commit.js';
import { Store } from '../persistence/store.js';
import type { DeadlineChanges } from '../schedule/deadline.js';

export interface StoredFlow {
  actor: string;
  machine: string;
  version: number;
  snapshot: unknown;
}

/**
 * Flow actors' persisted state, `{machine, version, snapshot}` per actor of a branch. An actor's state and the
 * deadlines it set or dropped go in the same group commit (one transaction), so a restart never finds one
 * without the other.
 */
@Injectable()
export class FlowStateRepository {
  constructor(
    private readonly store: Store,
    private readonly commits: GroupCommit,
  ) {}

  async all(branchId: string): Promise<StoredFlow[]> {
    return this.store.manager.findBy(FlowStateRecord, { branchId });
  }

  /** Stores the actor (or, with `null`, forgets actor `actor`: it is done) with its deadline changes; resolves once committed. */
  async save(branchId: string, actor: string, flow: StoredFlow | null, at: string, changes: DeadlineChanges): Promise<void> {
    await Promise.all([
      flow ? this.commits.put(FlowStateRecord, ['branchId', 'actor'], { branchId, ...flow, updatedAt: at }) : this.commits.remove(FlowStateRecord, { branchId, actor }),
      ...changes.set.filter((d) => !changes.clear.includes(d.key)).map((d) => this.commits.put(DeadlineRecord, ['key'], { ...d })),
      ...changes.clear.map((key) => this.commits.remove(DeadlineRecord, { key })),
    ]);
  }
}
