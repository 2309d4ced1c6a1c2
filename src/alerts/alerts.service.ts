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

/** An alert open in memory: as last known (acknowledged, escalated), and its raise, resolved once committed. */
interface Open {
  alert: AlertView;
  stored: Promise<AlertView>;
  /** Its raise could not be stored: nobody heard of it, so nobody hears of its clear. */
  failed: boolean;
}

const conditionOf = (type: string, subject: string) => `${type}\u0000${subject}`;

/**
 * Alerts as first-class records: raised once per open condition (flows ask through `alertRaise` /
 * `alertClear` events), cleared when the condition ends, acknowledged by a manager (REST or socket), and
 * escalated — one level up, with a new `alert` event — each `alertEscalateMin` nobody acknowledges them,
 * on a durable deadline.
 *
 * Whether a condition has an open alert is decided in memory, from what the branch's owner took over, so the
 * turn that raises or clears one does not wait for the database (design.md, the hot path): the row goes by group
 * commit, and the dashboard, headquarters and the escalation timer hear of it once it is committed.
 */
@Injectable()
export class AlertsService {
  private readonly logger = new Logger('Alerts');
  private readonly escalateMs: Map<string, number>;
  /** Open alerts by branch and condition (type + subject). */
  private readonly open = new Map<string, Map<string, Open>>();

  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(HUB_CONFIG) config: HubConfig,
    private readonly repo: AlertRepository,
    private readonly events: HubEvents,
    private readonly metrics: MetricsService,
    private readonly scheduler: Scheduler,
  ) {
    this.escalateMs = new Map(config.branches.map((b) => [b.id, b.rules.alertEscalateMin * 60_000]));
    // Not awaited: the turn goes on while the row is stored (a failure is logged where it happens).
    events.on('alertRaise', (e) => void this.raise(e).catch(() => undefined));
    events.on('alertClear', (e) => void this.clear(e.branchId, e.type, e.subject).catch(() => undefined));
  }

  /** A branch's owner takes over its open alerts, as stored. */
  takeOver(branchId: string, open: AlertView[]): void {
    this.open.set(branchId, new Map(open.map((a) => [conditionOf(a.type, a.subject), { alert: a, stored: Promise.resolve(a), failed: false }])));
  }

  /**
   * Raises an alert unless the same condition (type + subject) already has an open one; decided at once, in memory.
   * Resolves with the open alert once it is stored.
   */
  raise(e: HubEventMap['alertRaise']): Promise<AlertView> {
    const subject = e.subject.slice(0, 128);
    const condition = conditionOf(e.type, subject);
    const open = this.openIn(e.branchId);
    const known = open.get(condition);
    if (known) return known.stored;
    const now = this.clock.now();
    const id = randomUUID();
    const level = RAISED_AT[e.type];
    const escalation = this.escalation(id, e.branchId, level, now);
    const alert: AlertView = {
      id,
      branchId: e.branchId,
      type: e.type,
      subject,
      message: e.message.slice(0, 500), // the column's size: a device's long `reason` must not lose the alert
      data: e.data,
      level,
      escalatedAt: null,
      open: true,
      raisedAt: new Date(now).toISOString(),
      clearedAt: null,
      ackedAt: null,
      ackedBy: null,
    };
    const record: Open = { alert, stored: Promise.resolve(alert), failed: false };
    record.stored = this.repo.raise(alert, escalation).then(
      async () => {
        if (escalation) this.scheduler.applied({ set: [escalation], clear: [] });
        this.metrics.alertsRaised.inc({ type: e.type });
        this.logger.log(`${alert.branchId}: ${alert.level} ${alert.type} raised: ${alert.message}`);
        await this.changed(alert);
        return alert;
      },
      (err: Error) => {
        record.failed = true;
        if (open.get(condition) === record) open.delete(condition);
        this.logger.error(`${e.branchId}: ${e.type} ${subject} could not be raised: ${err.message}`);
        throw err;
      },
    );
    open.set(condition, record);
    return record.stored;
  }

  /** Closes the open alert of a condition, if there is one; decided at once, resolves once stored. */
  async clear(branchId: string, type: AlertType, subject: string): Promise<void> {
    const open = this.openIn(branchId);
    const condition = conditionOf(type, subject.slice(0, 128));
    const known = open.get(condition);
    if (!known) return;
    open.delete(condition);
    const { id } = known.alert;
    const closed: AlertView = { ...known.alert, open: false, clearedAt: isoOf(this.clock) };
    try {
      await this.repo.clear(closed, escalateKey(id));
      if (known.failed) return;
      this.scheduler.applied({ set: [], clear: [escalateKey(id)] });
      this.logger.log(`${branchId}: ${type} ${subject} cleared`);
      await this.changed(closed);
    } catch (e) {
      this.logger.error(`${branchId}: ${type} ${subject} could not be cleared: ${(e as Error).message}`);
      if (!open.has(condition)) open.set(condition, known); // still open in the database
      throw e;
    }
  }

  async acknowledge(id: string, by: string): Promise<AlertView> {
    const found = await this.repo.get(id);
    if (!found) throw new Rejection('not-found', `no alert ${id}`);
    if (found.ackedAt) return found;
    const close = (EVENT_ALERTS as readonly string[]).includes(found.type);
    // Closed by the manager: a new raise of its condition is a new alert.
    const open = this.openIn(found.branchId);
    const condition = conditionOf(found.type, found.subject);
    if (close && open.get(condition)?.alert.id === id) open.delete(condition);
    const acked = (await this.repo.acknowledge(id, by, isoOf(this.clock), close))!;
    this.remember(acked);
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
    this.remember(alert);
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

  /** An open alert changed in the database (acknowledged, escalated): memory shows it as it is now, for its clear. */
  private remember(alert: AlertView): void {
    const open = this.openIn(alert.branchId);
    const condition = conditionOf(alert.type, alert.subject);
    const known = open.get(condition);
    if (known?.alert.id === alert.id) known.alert = alert;
  }

  private openIn(branchId: string): Map<string, Open> {
    let open = this.open.get(branchId);
    if (!open) this.open.set(branchId, (open = new Map()));
    return open;
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
