import type { Clock } from '../clock/clock.js';
import type { BranchConfig } from '../config/config.schema.js';
import type { DevicesService } from '../devices/devices.service.js';
import type { Deadline } from '../schedule/deadline.js';
import type { FlowHost } from './flow-host.js';
import { deviceHealthFlow } from './machines/device-health.machine.js';

/** The device-return deadline of a branch: one per branch, listing who is expected back. */
export const deviceReturnKey = (branchId: string) => `branch:${branchId}:device-return`;

/**
 * Hosts the device-health machine of each device of a branch (machines/device-health.machine.ts) and the
 * device-return check after a restart: a durable deadline, so a second restart in between still
 * remembers who is expected.
 */
export class DeviceHealthFlow {
  constructor(
    private readonly branch: BranchConfig,
    private readonly clock: Clock,
    private readonly devices: DevicesService,
    private readonly host: FlowHost,
  ) {}

  /** The deadline to store at start-up: those connected before this start, and those still expected from an earlier one. */
  returnDeadline(earlier: Deadline | null): Deadline | null {
    const expected = new Set<string>((earlier?.data.deviceIds as string[] | undefined) ?? []);
    for (const d of this.devices.list(this.branch.id)) if (this.devices.connectedBeforeStart.has(d.id)) expected.add(d.id);
    if (!expected.size) return null;
    // Every start gives them the full time again: nobody can have reconnected to a hub that was down.
    const dueAt = new Date(this.clock.now() + this.branch.rules.deviceReturnSec * 1000).toISOString();
    return { key: deviceReturnKey(this.branch.id), branchId: this.branch.id, kind: 'device-return', dueAt, data: { deviceIds: [...expected] } };
  }

  async notBack(d: Deadline): Promise<void> {
    for (const id of d.data.deviceIds as string[]) {
      const device = this.devices.get(id);
      if (!device || device.online) continue;
      await this.host.send(`device-health:${id}`, deviceHealthFlow, { deviceId: id, kind: device.kind }, { type: 'NOT_BACK', zone: device.zone, at: this.clock.now() });
    }
  }

  /** After the device's presence or state changed in the registry. */
  async check(deviceId: string, at: number): Promise<void> {
    const d = this.devices.get(deviceId);
    if (!d) return;
    const fault = d.status === 'fault';
    // After every state message: sent only when online or fault changed (the zone counts only in the alert it raises).
    await this.host.sendChanged(`device-health:${deviceId}`, deviceHealthFlow, { deviceId, kind: d.kind }, { type: 'CHECK', online: d.online, fault, zone: d.zone, at }, `${d.online}|${fault}`);
  }
}
