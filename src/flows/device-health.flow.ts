import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { HUB_CONFIG } from '../config/config.module.js';
import type { HubConfig } from '../config/config.schema.js';
import { AlertsService } from '../alerts/alerts.service.js';
import { DevicesService } from '../devices/devices.service.js';
import { HubEvents } from '../hub-events.js';

/**
 * Device health (contract section 5): a device that goes offline or reports `fault` raises a
 * `device-down` alert; it clears when the device is back online and not faulty. (Its tasks are moved
 * by the task service.) At start-up every device is offline until it reconnects, which is not news;
 * but one that was connected before the restart and is not back within `deviceReturnSec` is down.
 */
@Injectable()
export class DeviceHealthFlow implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    private readonly devices: DevicesService,
    private readonly alerts: AlertsService,
    events: HubEvents,
  ) {
    events.on('presence', (e) => this.check(e.branchId, e.deviceId));
    events.on('deviceState', (e) => this.check(e.branchId, e.deviceId));
  }

  onApplicationBootstrap(): void {
    for (const branch of this.config.branches) {
      const timer = setTimeout(() => void this.notBack(branch.id), branch.rules.deviceReturnSec * 1000);
      timer.unref();
      this.timers.push(timer);
    }
  }

  onModuleDestroy(): void {
    this.timers.forEach(clearTimeout);
  }

  private async notBack(branchId: string): Promise<void> {
    for (const d of this.devices.list(branchId)) {
      if (d.online || !this.devices.connectedBeforeStart.has(d.id)) continue;
      await this.alerts.raise(branchId, 'device-down', d.id, `${d.kind} ${d.id} did not come back after the hub restarted`, { deviceId: d.id, kind: d.kind, zone: d.zone, reason: 'offline' });
    }
  }

  private async check(branchId: string, deviceId: string): Promise<void> {
    const d = this.devices.get(deviceId);
    if (!d) return;
    if (d.online && d.status !== 'fault') return this.alerts.clear(branchId, 'device-down', deviceId);
    const why = d.online ? 'reports a fault' : 'went offline';
    await this.alerts.raise(branchId, 'device-down', deviceId, `${d.kind} ${deviceId} ${why}`, { deviceId, kind: d.kind, zone: d.zone, reason: d.online ? 'fault' : 'offline' });
  }
}
