import { Injectable } from '@nestjs/common';
import { AlertsService } from '../alerts/alerts.service.js';
import { DevicesService } from '../devices/devices.service.js';
import { HubEvents } from '../hub-events.js';

/**
 * Device health (contract section 5): a device that goes offline or reports `fault` raises a
 * `device-down` alert; it clears when the device is back online and not faulty. (Its tasks are moved
 * by the task service.) Only changes seen while the hub runs count: at start-up every device is
 * offline until it reconnects, and that is not news.
 */
@Injectable()
export class DeviceHealthFlow {
  constructor(
    private readonly devices: DevicesService,
    private readonly alerts: AlertsService,
    events: HubEvents,
  ) {
    events.on('presence', (e) => this.check(e.branchId, e.deviceId));
    events.on('deviceState', (e) => this.check(e.branchId, e.deviceId));
  }

  private async check(branchId: string, deviceId: string): Promise<void> {
    const d = this.devices.get(deviceId);
    if (!d) return;
    if (d.online && d.status !== 'fault') return this.alerts.clear(branchId, 'device-down', deviceId);
    const why = d.online ? 'reports a fault' : 'went offline';
    await this.alerts.raise(branchId, 'device-down', deviceId, `${d.kind} ${deviceId} ${why}`, { deviceId, kind: d.kind, zone: d.zone, reason: d.online ? 'fault' : 'offline' });
  }
}
