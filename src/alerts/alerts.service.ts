import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { CLOCK, isoOf, type Clock } from '../clock/clock.js';
import { HUB_CONFIG } from '../config/config.module.js';
import type { HubConfig } from '../config/config.schema.js';
import { Rejection } from '../contracts/rejection.js';
import type { AlertView } from '../contracts/views.js';
import { HubEvents, type HubEventMap } from '../hub-events.js';
import { MetricsService } from '../observability/metrics.service.js';
import { Scheduler } from '../schedule/scheduler.service.js';
import { AlertRepository } from './alert.repository.js';
import type { Deadline } from '../schedule/deadline.js';
import { ALERT_LEVELS, EVENT_ALERTS, RAISED_AT, type AlertLevel, type AlertType } from './alert-types.js';

const escalateKey = (alertId: string) => `alert:${alertId}:escalate`;

/**
 * Alerts as first-class records: raised once per open condition (flows ask through `alertRaise` /
 * `alertClear` events), cleared when the condition ends, acknowledged by a manager (REST or socket), and
 * escalated — one level up, with a new `alert` event — each `alertEscalateMin` nobody acknowledges them,
 * on a durable deadline.
 */
@Injectable()
export class AlertsService {
  private readonly logger = new Logger('Alerts');
  private readonly escalateMs: Map<string, number>;

  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(HUB_CONFIG) config: HubConfig,
    private readonly repo: AlertRepository,
    private readonly events: HubEvents,
    private readonly metrics: MetricsService,
    private readonly scheduler: Scheduler,
  ) {
    this.escalateMs = new Map(config.branches.map((b) => [b.id, b.rules.alertEscalateMin * 60_000]));
    events.on('alertRaise', (e) => this.raise(e).then(() => undefined));
    events.on('alertClear', (e) => this.clear(e.branchId, e.type, e.subject));
  }

  /** Raises an alert unless the same condition (type + subject) already has an open one. */
  async raise(e: HubEventMap['alertRaise']): Promise<AlertView> {
    const now = this.clock.now();
    const id = randomUUID();
    const level = RAISED_AT[e.type];
    const escalation = this.escalation(id, e.branchId, level, now);
    const { alert, raised } = await this.repo.raiseOnce({
      id,
      branchId: e.branchId,
      type: e.type,
      subject: e.subject.slice(0, 128),
      message: e.message.slice(0, 500), // the column's size: a device's long `reason` must not lose the alert
      data: e.data,
      level,
      escalatedAt: null,
      open: true,
      raisedAt: new Date(now).toISOString(),
      clearedAt: null,
      ackedAt: null,
      ackedBy: null,
    }, escalation);
    if (raised) {
      if (escalation) this.scheduler.applied({ set: [escalation], clear: [] });
      this.metrics.alertsRaised.inc({ type: e.type });
      this.logger.log(`${alert.branchId}: ${alert.level} ${alert.type} raised: ${alert.message}`);
      await this.changed(alert);
    }
    return alert;
  }

  async clear(branchId: string, type: AlertType, subject: string): Promise<void> {
    const cleared = await this.repo.clear(branchId, type, subject, isoOf(this.clock));
    if (!cleared) return;
    await this.scheduler.cancel(escalateKey(cleared.id));
    this.logger.log(`${branchId}: ${type} ${subject} cleared`);
    await this.changed(cleared);
  }

  async acknowledge(id: string, by: string): Promise<AlertView> {
    const found = await this.repo.get(id);
    if (!found) throw new Rejection('not-found', `no alert ${id}`);
    if (found.ackedAt) return found;
    const acked = (await this.repo.acknowledge(id, by, isoOf(this.clock), (EVENT_ALERTS as readonly string[]).includes(found.type)))!;
    await this.scheduler.cancel(escalateKey(id));
    this.logger.log(`${acked.branchId}: ${acked.type} ${acked.subject} acknowledged by ${by}`);
    await this.changed(acked);
    return acked;
  }

  /** Its escalation deadline: still open and unacknowledged, it goes one level up (and waits for the next, below critical). */
  async escalate(id: string): Promise<void> {
    const now = this.clock.now();
    let next: Deadline | null = null;
    const alert = await this.repo.escalate(id, new Date(now).toISOString(), (level, branchId) => (next = this.escalation(id, branchId, level, now)));
    if (!alert) return;
    if (next) this.scheduler.applied({ set: [next], clear: [] });
    this.logger.log(`${alert.branchId}: ${alert.type} ${alert.subject} escalated to ${alert.level}: nobody acknowledged it`);
    await this.changed(alert);
  }

  get(id: string): Promise<AlertView | null> {
    return this.repo.get(id);
  }

  /** Open ones only, or (no state) open and closed ones of the last 24 h on the hub's clock; newest first. */
  list(branchId: string, state?: 'open' | 'closed'): Promise<AlertView[]> {
    return this.repo.list(branchId, state, new Date(this.clock.now() - 24 * 3600_000).toISOString());
  }

  /** The next escalation of an alert now at `level`, or null at the top. */
  private escalation(alertId: string, branchId: string, level: AlertLevel, from: number): Deadline | null {
    const ms = this.escalateMs.get(branchId);
    if (!ms || level === ALERT_LEVELS.at(-1)) return null;
    return { key: escalateKey(alertId), branchId, kind: 'alert-escalate', dueAt: new Date(from + ms).toISOString(), data: { alertId } };
  }

  private changed(alert: AlertView): Promise<void> {
    return this.events.emit('alertChanged', { branchId: alert.branchId, alert: { ...alert } });
  }
}
