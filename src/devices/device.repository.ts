import { Injectable } from '@nestjs/common';
import type { DeviceView } from '../contracts/views.js';
import { upsertAll } from '../persistence/batch.js';
import { DeviceRecord } from '../persistence/entities.js';
import { GroupCommit } from '../persistence/group-commit.js';
import { Store } from '../persistence/store.js';

/** The stored columns of a device's view (its owed cancels are stored apart). */
const rowOf = ({ id, branchId, kind, zone, status, battery, online, since, lastSeen }: DeviceView) => ({ id, branchId, kind, zone, status, battery, online, since, lastSeen });

/** Whether the stored row `r` already says what `d` says. */
export function storedAs(r: DeviceRecord | undefined, d: DeviceView): boolean {
  const row = rowOf(d);
  return r !== undefined && (Object.keys(row) as (keyof typeof row)[]).every((k) => r[k] === row[k]);
}

/** The registry's stored side: last state and presence per device, and cancels owed to it. */
@Injectable()
export class DeviceRepository {
  constructor(
    private readonly store: Store,
    private readonly commits: GroupCommit,
  ) {}

  all(): Promise<DeviceRecord[]> {
    return this.store.manager.find(DeviceRecord);
  }

  /** The device's row as it is now, group-committed (`later` unless someone waits for it): a later save of the same device never lands before it. */
  save(d: DeviceView, waitedFor: boolean): Promise<unknown> {
    const put = () => void this.commits.put(DeviceRecord, ['id'], rowOf(d));
    return waitedFor ? this.commits.together(put) : this.commits.later(put);
  }

  /** Many at once (start-up): one transaction, one statement per chunk; owed cancels stay as stored. */
  async saveAll(ds: DeviceView[]): Promise<void> {
    if (ds.length) await this.store.transaction((em) => upsertAll(em, DeviceRecord, ds.map(rowOf), ['id']));
  }

  saveOwedCancels(deviceId: string, taskIds: string[]): Promise<unknown> {
    return this.store.transaction((em) => em.update(DeviceRecord, { id: deviceId }, { owedCancels: taskIds }));
  }
}
