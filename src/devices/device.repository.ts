import { Injectable } from '@nestjs/common';
import type { DeviceView } from '../contracts/views.js';
import { DeviceRecord } from '../persistence/entities.js';
import { GroupCommit } from '../persistence/group-commit.js';
import { Store } from '../persistence/store.js';

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

  /** The device's row as it is now, group-committed: a later save of the same device never lands before it. */
  save(d: DeviceView): Promise<unknown> {
    const { id, branchId, kind, zone, status, battery, online, since, lastSeen } = d;
    return this.commits.put(DeviceRecord, ['id'], { id, branchId, kind, zone, status, battery, online, since, lastSeen });
  }

  saveOwedCancels(deviceId: string, taskIds: string[]): Promise<unknown> {
    return this.store.transaction((em) => em.update(DeviceRecord, { id: deviceId }, { owedCancels: taskIds }));
  }
}
