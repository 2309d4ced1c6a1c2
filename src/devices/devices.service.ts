import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { BrokerService } from '../broker/broker.service.js';
import { HUB_CONFIG } from '../config/config.module.js';
import type { HubConfig } from '../config/config.schema.js';
import { indexDevices } from '../config/directory.js';
import { topics } from '../contracts/topics.js';
import { HubEvents, type HubEventMap } from '../hub-events.js';
import { KeyedQueue } from '../keyed-queue.js';
import { DeviceRecord } from '../persistence/entities.js';
import type { DeviceView } from './device-view.js';

/** The device registry: every configured device with its last state and presence, kept in memory and persisted. */
@Injectable()
export class DevicesService implements OnApplicationBootstrap {
  private readonly devices = new Map<string, DeviceView>();
  private readonly writes = new KeyedQueue();
  /** Devices that were connected when the hub last stopped (or died): they are expected back. */
  readonly connectedBeforeStart = new Set<string>();

  constructor(
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @InjectRepository(DeviceRecord) private readonly repo: Repository<DeviceRecord>,
    private readonly broker: BrokerService,
    private readonly events: HubEvents,
  ) {
    events.on('presence', (e) => this.onPresence(e));
    events.on('deviceState', (e) => this.onState(e));
  }

  /** Loads what was known before the restart. Nobody is connected yet, so every device starts offline. */
  async onApplicationBootstrap(): Promise<void> {
    const stored = new Map((await this.repo.find()).map((r) => [r.id, r]));
    const now = new Date().toISOString();
    for (const { branch, device } of indexDevices(this.config).values()) {
      const r = stored.get(device.id);
      if (r?.online) this.connectedBeforeStart.add(device.id);
      const view: DeviceView = {
        id: device.id,
        branchId: branch.id,
        kind: device.kind,
        zone: r?.zone ?? device.zone ?? null,
        homeZone: device.zone ?? null,
        capabilities: device.capabilities,
        services: device.services,
        status: (r?.status as DeviceView['status']) ?? null,
        battery: r?.battery ?? null,
        online: false,
        since: r && !r.online && r.since ? r.since : now,
        lastSeen: r?.lastSeen ?? null,
      };
      this.devices.set(device.id, view);
      await this.save(view);
      await this.broker.publish(topics.presence(branch.id, device.id), { online: false, since: view.since }, { qos: 1, retain: true });
    }
  }

  get(id: string): DeviceView | undefined {
    return this.devices.get(id);
  }

  list(branchId?: string): DeviceView[] {
    return [...this.devices.values()].filter((d) => !branchId || d.branchId === branchId);
  }

  private async onPresence(e: HubEventMap['presence']): Promise<void> {
    const d = this.devices.get(e.deviceId);
    if (!d) return;
    d.online = e.online;
    d.since = e.since.toISOString();
    if (e.online) d.lastSeen = d.since;
    await this.changed(d);
  }

  private async onState(e: HubEventMap['deviceState']): Promise<void> {
    const d = this.devices.get(e.deviceId);
    if (!d) return;
    d.status = e.status;
    if (e.zone !== undefined) d.zone = e.zone;
    if (e.battery !== undefined) d.battery = e.battery;
    d.lastSeen = e.at.toISOString();
    await this.changed(d);
  }

  private async changed(d: DeviceView): Promise<void> {
    // Presence and state arrive on separate chains; writing the latest view, one at a time, keeps a slow
    // earlier write (a PostgreSQL pool does not keep order) from landing last with stale values.
    await this.writes.run(d.id, () => this.save(d));
    await this.events.emit('deviceChanged', { branchId: d.branchId, device: { ...d } });
  }

  private save(d: DeviceView): Promise<unknown> {
    const { id, branchId, kind, zone, status, battery, online, since, lastSeen } = d;
    return this.repo.save({ id, branchId, kind, zone, status, battery, online, since, lastSeen });
  }
}
