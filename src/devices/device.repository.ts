import { Injectable } from '@nestjs/common';
import type { DeviceView } from '../contracts/views.js';
import { DeviceRecord } from '../persistence/entities.js';
import { Store } from '../persistence/store.js';

/** The registry's stored side: last state and presence per device, and cancels owed to it. */
@Injectable()
export class DeviceRepository {
  constructor(private readonly store: Store) {}

  all(): Promise<DeviceRecord[]> {
    return this.store.manager.find(DeviceRecord);
  }

  save(d: DeviceView): Promise<unknown> {
    const { id, branchId, kind, zone, status, battery, online, since, lastSeen } = d;
    return this.store.write((em) => this.store.upsert(em, DeviceRecord, [{ id, branchId, kind, zone, status, battery, online, since, lastSeen }], ['id']));
  }

  saveOwedCancels(deviceId: string, taskIds: string[]): Promise<unknown> {
    return this.store.transaction((em) => em.update(DeviceRecord, { id: deviceId }, { owedCancels: taskIds }));
  }
}
