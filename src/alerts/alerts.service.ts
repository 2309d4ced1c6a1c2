import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { CLOCK, isoOf, type Clock } from '../clock/clock.js';
import { Rejection } from '../contracts/rejection.js';
import type { AlertView } from '../contracts/views.js';
import { HubEvents, type HubEventMap } from '../hub-events.js';
import { MetricsService } from '../observability/metrics.service.js';
import { AlertRepository } from './alert.repository.js';
import { EVENT_ALERTS, type AlertType } from './alert-types.js';

/** Raises, clears and acknowledges alerts: flows ask through `alertRaise` / `alertClear` events, managers through the API. */
@Injectable()
export class AlertsService {
  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly repo: AlertRepository,
    private readonly events: HubEvents,
    private readonly metrics: MetricsService,
  ) {
    events.on('alertRaise', (e) => this.raise(e).then(() => undefined));
    events.on('alertClear', (e) => this.clear(e.branchId, e.type, e.subject));
  }

  /** Raises an alert unless the same condition (type + subject) already has an open one. */
  async raise(e: HubEventMap['alertRaise']): Promise<AlertView> {
    const { alert, raised } = await this.repo.raiseOnce({
      id: randomUUID(),
      branchId: e.branchId,
      type: e.type,
      subject: e.subject.slice(0, 128),
      message: e.message.slice(0, 500), // the column's size: a device's long `reason` must not lose the alert
      data: e.data,
      open: true,
      raisedAt: isoOf(this.clock),
      clearedAt: null,
      ackedAt: null,
      ackedBy: null,
    });
    if (raised) {
      this.metrics.alertsRaised.inc({ type: e.type });
      await this.changed(alert);
    }
    return alert;
  }

  async clear(branchId: string, type: AlertType, subject: string): Promise<void> {
    const cleared = await this.repo.clear(branchId, type, subject, isoOf(this.clock));
    if (cleared) await this.changed(cleared);
  }

  async acknowledge(id: string, by: string): Promise<AlertView> {
    const found = await this.repo.get(id);
    if (!found) throw new Rejection('not-found', `no alert ${id}`);
    if (found.ackedAt) return found;
    const acked = (await this.repo.acknowledge(id, by, isoOf(this.clock), (EVENT_ALERTS as readonly string[]).includes(found.type)))!;
    await this.changed(acked);
    return acked;
  }

  get(id: string): Promise<AlertView | null> {
    return this.repo.get(id);
  }

  /** Open ones only, or (no state) open and closed ones of the last 24 h on the hub's clock; newest first. */
  list(branchId: string, state?: 'open' | 'closed'): Promise<AlertView[]> {
    return this.repo.list(branchId, state, new Date(this.clock.now() - 24 * 3600_000).toISOString());
  }

  private changed(alert: AlertView): Promise<void> {
    return this.events.emit('alertChanged', { branchId: alert.branchId, alert: { ...alert } });
  }
}
