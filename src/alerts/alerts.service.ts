import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { MoreThanOrEqual, type Repository } from 'typeorm';
import { Rejection } from '../contracts/rejection.js';
import { HubEvents } from '../hub-events.js';
import { KeyedQueue } from '../keyed-queue.js';
import { MetricsService } from '../observability/metrics.service.js';
import { AlertRecord } from '../persistence/entities.js';

/**
 * Alert types. Condition alerts (crowding, device-down, …) close when their condition ends; event
 * alerts (a VIP arrived, a task failed) have no condition to end, so a manager's acknowledgement closes them.
 */
export const EVENT_ALERTS = ['vip-arrival', 'task-failed'] as const;
export type AlertType = (typeof EVENT_ALERTS)[number] | 'device-down' | 'crowding' | 'long-wait' | 'post-unattended';

@Injectable()
export class AlertsService {
  private readonly conditions = new KeyedQueue();

  constructor(
    @InjectRepository(AlertRecord) private readonly repo: Repository<AlertRecord>,
    private readonly events: HubEvents,
    private readonly metrics: MetricsService,
  ) {}

  /** Raises an alert unless the same one (type + subject) is already open. */
  raise(branchId: string, type: AlertType, subject: string, message: string, data: Record<string, unknown> = {}): Promise<AlertRecord> {
    // Two flows can see the same condition at once: checking and inserting must not interleave.
    return this.conditions.run(`${branchId}/${type}/${subject}`, () => this.raiseNow(branchId, type, subject, message, data));
  }

  private async raiseNow(branchId: string, type: AlertType, subject: string, message: string, data: Record<string, unknown>): Promise<AlertRecord> {
    const open = await this.repo.findOneBy({ branchId, type, subject, open: true });
    if (open) return open;
    const alert: AlertRecord = {
      id: randomUUID(),
      branchId,
      type,
      subject: subject.slice(0, 128),
      message: message.slice(0, 500), // the column's size: a device's long `reason` must not lose the alert
      data,
      open: true,
      raisedAt: new Date().toISOString(),
      clearedAt: null,
      ackedAt: null,
      ackedBy: null,
    };
    await this.repo.insert(alert as never); // typeorm's insert typing cannot see through simple-json columns
    this.metrics.alertsRaised.inc({ type });
    await this.changed(alert);
    return alert;
  }

  /** The condition behind an alert ended. */
  clear(branchId: string, type: AlertType, subject: string): Promise<void> {
    return this.conditions.run(`${branchId}/${type}/${subject}`, async () => {
      const open = await this.repo.findOneBy({ branchId, type, subject, open: true });
      if (!open) return;
      Object.assign(open, { open: false, clearedAt: new Date().toISOString() });
      await this.repo.save(open);
      await this.changed(open);
    });
  }

  async acknowledge(id: string, by: string): Promise<AlertRecord> {
    const found = await this.repo.findOneBy({ id });
    if (!found) throw new Rejection('not-found', `no alert ${id}`);
    return this.conditions.run(`${found.branchId}/${found.type}/${found.subject}`, () => this.acknowledgeNow(id, by));
  }

  private async acknowledgeNow(id: string, by: string): Promise<AlertRecord> {
    const alert = (await this.repo.findOneBy({ id }))!;
    if (alert.ackedAt) return alert;
    alert.ackedAt = new Date().toISOString();
    alert.ackedBy = by;
    if ((EVENT_ALERTS as readonly string[]).includes(alert.type) && alert.open) {
      alert.open = false;
      alert.clearedAt = alert.ackedAt;
    }
    await this.repo.save(alert);
    await this.changed(alert);
    return alert;
  }

  get(id: string): Promise<AlertRecord | null> {
    return this.repo.findOneBy({ id });
  }

  /** Open ones only, or (no state) open and closed ones of the last 24 h; newest first. */
  list(branchId: string, state?: 'open' | 'closed'): Promise<AlertRecord[]> {
    const since = new Date(Date.now() - 24 * 3600_000).toISOString();
    const where =
      state === 'open'
        ? { branchId, open: true }
        : state === 'closed'
          ? { branchId, open: false, raisedAt: MoreThanOrEqual(since) }
          : [{ branchId, open: true }, { branchId, raisedAt: MoreThanOrEqual(since) }];
    return this.repo.find({ where, order: { raisedAt: 'DESC' }, take: 500 });
  }

  private changed(alert: AlertRecord): Promise<void> {
    return this.events.emit('alertChanged', { branchId: alert.branchId, alert: { ...alert } });
  }
}
