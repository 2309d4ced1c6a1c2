import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, isoAt, isoOf, type Clock } from '../clock/clock.js';
import { HUB_CONFIG } from '../config/config.module.js';
import type { HubConfig } from '../config/config.schema.js';
import { indexDevices } from '../config/directory.js';
import type { DeviceView } from '../contracts/views.js';
import { HubEvents, type HubEventMap } from '../hub-events.js';
import { KeyedQueue } from '../keyed-queue.js';
import { DeviceRepository, storedAs } from './device.repository.js';

/**
 * The device registry: every configured device with its last state and presence, kept in memory and
 * stored. Changed only by the owner of the device's branch (presence and state are branch events);
 * read by anyone.
 */
@Injectable()
export class DevicesService {
  private readonly devices = new Map<string, DeviceView>();
  /** The same views by branch: a branch's owner asks for its devices on every dispatch (and each branch at start-up). */
  private readonly byBranch = new Map<string, DeviceView[]>();
  private readonly owed = new Map<string, string[]>();
  private readonly writes = new KeyedQueue();
  /** Devices that were connected when the hub last stopped (or died): they are expected back. */
  readonly connectedBeforeStart = new Set<string>();

  constructor(
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly repo: DeviceRepository,
    private readonly events: HubEvents,
  ) {}

  /** Loads what was known before the restart. Nobody is connected yet, so every device starts offline: stored in one go, rows that say so already left alone. */
  async load(): Promise<void> {
    const stored = new Map((await this.repo.all()).map((r) => [r.id, r]));
    const now = isoOf(this.clock);
    const changed: DeviceView[] = [];
    this.byBranch.clear();
    for (const { branch, device } of indexDevices(this.config).values()) {
      const r = stored.get(device.id);
      if (r?.online) this.connectedBeforeStart.add(device.id);
      if (r?.owedCancels?.length) this.owed.set(device.id, r.owedCancels);
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
      if (!this.byBranch.has(branch.id)) this.byBranch.set(branch.id, []);
      this.byBranch.get(branch.id)!.push(view);
      if (!storedAs(r, view)) changed.push(view);
    }
    await this.repo.saveAll(changed);
  }

  get(id: string): DeviceView | undefined {
    return this.devices.get(id);
  }

  list(branchId?: string): DeviceView[] {
    return branchId ? [...(this.byBranch.get(branchId) ?? [])] : [...this.devices.values()];
  }

  async presence(e: HubEventMap['presence']): Promise<void> {
    const d = this.devices.get(e.deviceId);
    if (!d) return;
    d.online = e.online;
    d.since = e.since.toISOString();
    if (e.online) d.lastSeen = d.since;
    // Waited for: the retained presence goes out once the registry has stored it (a restart knows who was online).
    await this.changed(d, true);
  }

  async state(e: HubEventMap['deviceState']): Promise<void> {
    const d = this.devices.get(e.deviceId);
    if (!d) return;
    d.status = e.status;
    if (e.zone !== undefined) d.zone = e.zone;
    if (e.battery !== undefined) d.battery = e.battery;
    d.lastSeen = isoAt(e.at.getTime());
    await this.changed(d, false);
  }

  /** A task was moved away from the device while it was offline: it is told to cancel it when it is back. */
  oweCancel(deviceId: string, taskId: string): Promise<unknown> {
    const owed = [...new Set([...(this.owed.get(deviceId) ?? []), taskId])];
    this.owed.set(deviceId, owed);
    return this.writes.run(deviceId, () => this.repo.saveOwedCancels(deviceId, owed));
  }

  async takeOwedCancels(deviceId: string): Promise<string[]> {
    const owed = this.owed.get(deviceId) ?? [];
    if (!owed.length) return [];
    this.owed.delete(deviceId);
    await this.writes.run(deviceId, () => this.repo.saveOwedCancels(deviceId, []));
    return owed;
  }

  /**
   * The view is changed in memory before the first await, so the rest of the caller's turn sees it whether or not
   * it waits; the row is group-committed (the latest view wins, in order) and this resolves once it is stored.
   */
  private async changed(d: DeviceView, waitedFor: boolean): Promise<void> {
    const stored = this.repo.save(d, waitedFor);
    await this.events.emit('deviceChanged', { branchId: d.branchId, device: { ...d } });
    await stored;
  }
}
