import { Injectable } from '@nestjs/common';
import { FlowStateRecord } from '../persistence/entities.js';
import { Store } from '../persistence/store.js';

export interface StoredFlow {
  actor: string;
  machine: string;
  version: number;
  snapshot: unknown;
}

/** Flow actors' persisted state, `{machine, version, snapshot}` per actor of a branch. */
@Injectable()
export class FlowStateRepository {
  constructor(private readonly store: Store) {}

  async all(branchId: string): Promise<StoredFlow[]> {
    return this.store.manager.findBy(FlowStateRecord, { branchId });
  }

  save(branchId: string, flow: StoredFlow, at: string): Promise<unknown> {
    return this.store.transaction((em) => em.save(FlowStateRecord, { branchId, ...flow, updatedAt: at }));
  }

  remove(branchId: string, actor: string): Promise<unknown> {
    return this.store.transaction((em) => em.delete(FlowStateRecord, { branchId, actor }));
  }
}
