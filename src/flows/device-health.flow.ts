import type { Clock } from '../clock/clock.js';
import type { BranchConfig } from '../config/config.schema.js';
import type { DevicesService } from '../devices/devices.service.js';
import type { HubEventMap } from '../hub-events.js';
import type { Deadline } from '../schedule/deadline.js';

export interface DeviceHealthPorts {
  clock: Clock;
  devices: DevicesService;
  raise(event: Omit<HubEventMap['alertRaise'], 'branchId' | 'type'>): Promise<void>;
  clear(subject: string): Promise<void>;
}

/** The device-return deadline of a branch: one per branch, listing who is expected back. */
export const deviceReturnKey = (branchId: string) => `branch:${branchId}:device-return`;

/**
 * Device health (contract section 5): a device that goes offline or reports `fault` raises a
 * `device-down` alert; it clears when the device is back online and not faulty. (Its tasks are moved
 * by the task book.) At start-up every device is offline until it reconnects, which is not news; but
 * one that was connected before the restart and is not back within `deviceReturnSec` is down — a
 * durable deadline, so a second restart in between still remembers who is expected.
 */
export class DeviceHealthFlow {
  constructor(
    private readonly branch: BranchConfig,
    private readonly p: DeviceHealthPorts,
  ) {}

  /** The deadline to store at start-up: those connected before this start, and those still expected from an earlier one. */
  returnDeadline(earlier: Deadline | null): Deadline | null {
    const expected = new Set<string>((earlier?.data.deviceIds as string[] | undefined) ?? []);
    for (const d of this.p.devices.list(this.branch.id)) if (this.p.devices.connectedBeforeStart.has(d.id)) expected.add(d.id);
    if (!expected.size) return null;
    // Every start gives them the full time again: nobody can have reconnected to a hub that was down.
    const dueAt = new Date(this.p.clock.now() + this.branch.rules.deviceReturnSec * 1000).toISOString();
    return { key: deviceReturnKey(this.branch.id), branchId: this.branch.id, kind: 'device-return', dueAt, data: { deviceIds: [...expected] } };
  }

  async notBack(d: Deadline): Promise<void> {
    for (const id of d.data.deviceIds as string[]) {
      const device = this.p.devices.get(id);
      if (!device || device.online) continue;
      await this.p.raise({ subject: id, message: `${device.kind} ${id} did not come back after the hub restarted`, data: { deviceId: id, kind: device.kind, zone: device.zone, reason: 'offline' } });
    }
  }

  async check(deviceId: string): Promise<void> {
    const d = this.p.devices.get(deviceId);
    if (!d) return;
    if (d.online && d.status !== 'fault') return this.p.clear(deviceId);
    const why = d.online ? 'reports a fault' : 'went offline';
    await this.p.raise({ subject: deviceId, message: `${d.kind} ${deviceId} ${why}`, data: { deviceId, kind: d.kind, zone: d.zone, reason: d.online ? 'fault' : 'offline' } });
  }
}
