import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { Branches } from '../branch/branches.service.js';
import { CLOCK, isoOf, type Clock, type TimerHandle } from '../clock/clock.js';
import { HUB_CONFIG } from '../config/config.module.js';
import type { HubConfig, UplinkConfig } from '../config/config.schema.js';
import { DevicesService } from '../devices/devices.service.js';
import type { UplinkView } from '../contracts/views.js';
import { HubEvents } from '../hub-events.js';
import { MetricsService } from '../observability/metrics.service.js';
import { AlertRepository } from '../alerts/alert.repository.js';
import { BranchLink, hqTopics } from './branch-link.js';
import { kpiOf } from './kpi.js';
import { Outbox, type Backlog } from './outbox.js';

/**
 * The hub as a client of headquarters' broker (contract section 8), when `uplink.url` is set: per branch a
 * `BranchLink` (status with its will, the outbox's events in order, requests in), and the KPIs every
 * `kpiIntervalSec` of the hub's clock, retained. Backlog size and age are in `/metrics` and on the dashboard.
 */
@Injectable()
export class UplinkService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Uplink');
  private readonly links = new Map<string, BranchLink>();
  private kpiTimer: TimerHandle | undefined;
  private readonly backlogGauge: Gauge;
  private readonly ageGauge: Gauge;
  private readonly connectedGauge: Gauge;

  constructor(
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly outbox: Outbox,
    private readonly branches: Branches,
    private readonly devices: DevicesService,
    private readonly alerts: AlertRepository,
    private readonly events: HubEvents,
    metrics: MetricsService,
  ) {
    const gauge = (name: string, help: string) => new Gauge({ name, help, labelNames: ['branch'], registers: [metrics.registry] });
    this.backlogGauge = gauge('hub_uplink_backlog', 'Events for headquarters not yet acknowledged by its broker');
    this.ageGauge = gauge('hub_uplink_backlog_age_seconds', 'Age of the oldest event waiting for headquarters (hub clock), 0 when none');
    this.connectedGauge = gauge('hub_uplink_connected', '1 while connected to headquarters broker');
  }

  get configured(): UplinkConfig | undefined {
    return this.config.uplink;
  }

  async onApplicationBootstrap(): Promise<void> {
    const uplink = this.config.uplink;
    if (!uplink) return;
    this.outbox.onAppend((b) => this.links.get(b)?.wake());
    const backlogs = await this.outbox.backlogs(this.config.branches.map((b) => b.id));
    for (const b of this.config.branches) {
      this.links.set(
        b.id,
        new BranchLink(b.id, uplink, {
          outbox: this.outbox,
          now: () => isoOf(this.clock),
          later: (fn, ms) => void this.clock.setTimeout(fn, ms),
          // The owner's turn itself, not an event: a failure must reach the link (no PUBACK, HQ sends it again).
          request: (branchId, payload) => this.branches.get(branchId).signal('hqRequest', { branchId, payload }),
          changed: (branchId, connected) => void this.report(branchId, connected).catch((e: Error) => this.logger.warn(`uplink ${branchId}: ${e.message}`)),
          error: (m) => this.logger.warn(m),
        }),
      );
      await this.report(b.id, false, backlogs.get(b.id));
    }
    this.logger.log(`to headquarters at ${uplink.url.replace(/\/\/[^@/]*@/, '//')} for ${this.links.size} branch(es)`);
    this.scheduleKpi(uplink.kpiIntervalSec * 1000);
  }

  async onApplicationShutdown(): Promise<void> {
    this.clock.clearTimeout(this.kpiTimer);
    await Promise.all([...this.links.values()].map((l) => l.stop()));
  }

  /** Connected or not, and the backlog: gauges and the dashboard's `uplink` event. */
  async state(branchId: string, known?: Backlog): Promise<UplinkView | null> {
    const link = this.links.get(branchId);
    if (!link) return null;
    const { size, oldestAt } = known ?? (await this.outbox.backlog(branchId));
    return { connected: link.isConnected, backlog: size, oldestAt, error: link.lastError };
  }

  /** `backlog` when start-up has read it already. */
  private async report(branchId: string, connected: boolean, backlog?: Backlog): Promise<void> {
    const s = await this.state(branchId, backlog);
    if (!s) return;
    this.connectedGauge.set({ branch: branchId }, connected ? 1 : 0);
    this.backlogGauge.set({ branch: branchId }, s.backlog);
    this.ageGauge.set({ branch: branchId }, s.oldestAt ? Math.max(0, (this.clock.now() - Date.parse(s.oldestAt)) / 1000) : 0);
    await this.events.emit('uplinkChanged', { branchId, uplink: { ...s, connected } });
  }

  private scheduleKpi(everyMs: number): void {
    this.kpiTimer = this.clock.setTimeout(() => {
      void this.publishKpis()
        .catch((e: Error) => this.logger.warn(`uplink: KPIs not sent: ${e.message}`))
        .finally(() => this.scheduleKpi(everyMs));
    }, everyMs);
  }

  private async publishKpis(): Promise<void> {
    for (const [b, link] of this.links) {
      if (!link.isConnected) continue;
      const runtime = this.branches.get(b);
      const openAlerts = (await this.alerts.list(b, 'open', '')).length;
      const kpi = kpiOf(runtime.branch, runtime.model, this.devices.list(b), openAlerts, this.clock.now());
      // Not awaited: a link that drops now must not hold up the other branches' KPIs.
      void link.publish(hqTopics.kpi(b), kpi, true).catch((e: Error) => this.logger.warn(`uplink ${b}: kpi not sent: ${e.message}`));
      await this.report(b, link.isConnected);
    }
  }
}
