import { Injectable } from '@nestjs/common';
import { In, IsNull, MoreThanOrEqual } from 'typeorm';
import type { AlertView } from '../contracts/views.js';
import { AlertRecord } from '../persistence/entities.js';
import { byBranch } from '../persistence/batch.js';
import { GroupCommit } from '../persistence/group-commit.js';
import { Store } from '../persistence/store.js';
import type { Deadline } from '../schedule/deadline.js';
import { DeadlineRepository } from '../schedule/deadline.repository.js';
import { Outbox, type UplinkEvent } from '../uplink/outbox.js';
import { ALERT_LEVELS, type AlertLevel } from './alert-types.js';

/**
 * Alerts. Changes are targeted updates guarded by the row's current state, so a manager's acknowledgement
 * and a condition clearing at the same moment never overwrite each other. Raising and closing one stores
 * headquarters' event in the same transaction (the uplink's outbox); both go by group commit, in the order asked.
 */
@Injectable()
export class AlertRepository {
  constructor(
    private readonly store: Store,
    private readonly commits: GroupCommit,
    private readonly deadlines: DeadlineRepository,
    private readonly outbox: Outbox,
  ) {}

  /**
   * Stores a raise decided in memory (one open alert per condition, `AlertsService`), its escalation deadline and
   * headquarters' event, by group commit: batched with the other rows of the commit, in the order asked, so a clear
   * asked before lands before (the unique index on open conditions allows one). Resolves once committed.
   */
  raise(alert: AlertView, escalation: Deadline | null): Promise<void> {
    return this.commits.together(() => {
      this.put(alert);
      if (escalation) this.deadlines.ask({ set: [escalation], clear: [] });
      const { id, branchId, type, subject, level, message } = alert;
      this.tell(branchId, { kind: 'alert-raised', alertId: id, type, subject, level, message });
    });
  }

  /**
   * Stores a clear decided in memory (`alert` as closed), drops its escalation deadline and tells headquarters, by
   * group commit like `raise` (so after it). Only condition alerts are cleared, and only event alerts are closed by
   * a manager, so nothing else closes it meanwhile. A clear asked before its raise failed still stores the closed
   * row: the history shows an alert nobody heard of (the failed raise is logged).
   */
  clear(alert: AlertView, escalation: string): Promise<void> {
    return this.commits.together(() => {
      this.put(alert);
      this.deadlines.ask({ set: [], clear: [escalation] });
      const { id, branchId, type, subject } = alert;
      this.tell(branchId, { kind: 'alert-cleared', alertId: id, type, subject });
    });
  }

  /**
   * The row as memory has it. A row already stored takes only whether it is open and when it closed: an
   * acknowledgement or an escalation stored meanwhile (their own guarded updates) stands.
   */
  private put(alert: AlertView): void {
    void this.commits.put(AlertRecord, ['id'], { ...alert }, ['open', 'clearedAt']);
  }

  /** Headquarters' event, numbered in the same transaction (only with an uplink). */
  private tell(branchId: string, event: UplinkEvent): void {
    this.outbox.ask(branchId, event);
  }

  /** The open ones of these branches (what their owners take over), by branch. */
  openByBranch(ids: string[]): Promise<Map<string, AlertView[]>> {
    return byBranch(ids, (part) => this.store.manager.findBy(AlertRecord, { branchId: In(part), open: true }));
  }

  /** Records who acknowledged it (once); `close` also ends an alert that has no condition to end. */
  async acknowledge(id: string, by: string, at: string, close: boolean): Promise<AlertView | null> {
    await this.store.transaction(async (em) => {
      await em.update(AlertRecord, { id, ackedAt: IsNull() }, { ackedAt: at, ackedBy: by });
      if (!close) return;
      const closed = await em.update(AlertRecord, { id, open: true }, { open: false, clearedAt: at });
      const a = closed.affected ? await em.findOneByOrFail(AlertRecord, { id }) : null;
      if (a) await this.outbox.append(em, a.branchId, { kind: 'alert-cleared', alertId: id, type: a.type, subject: a.subject, by });
    });
    return this.get(id);
  }

  /** One level up, if it is still open, unacknowledged and below the top, with the next escalation deadline (if any) in the same transaction; null otherwise. */
  async escalate(id: string, at: string, next: (level: AlertLevel, branchId: string) => Deadline | null): Promise<AlertView | null> {
    const alert = await this.get(id);
    if (!alert || !alert.open || alert.ackedAt) return null;
    const level = ALERT_LEVELS[ALERT_LEVELS.indexOf(alert.level as AlertLevel) + 1];
    if (!level) return null;
    const done = await this.store.transaction(async (em) => {
      const r = await em.update(AlertRecord, { id, open: true, ackedAt: IsNull(), level: alert.level }, { level, escalatedAt: at });
      const deadline = next(level, alert.branchId);
      if (r.affected && deadline) await this.deadlines.put(em, deadline);
      return r;
    });
    return done.affected ? this.get(id) : null;
  }

  get(id: string): Promise<AlertView | null> {
    return this.store.manager.findOneBy(AlertRecord, { id });
  }

  /** Open ones only, or (no state) open and closed ones raised since `since`; newest first. */
  list(branchId: string, state: 'open' | 'closed' | undefined, since: string): Promise<AlertView[]> {
    const where =
      state === 'open'
        ? { branchId, open: true }
        : state === 'closed'
          ? { branchId, open: false, raisedAt: MoreThanOrEqual(since) }
          : [{ branchId, open: true }, { branchId, raisedAt: MoreThanOrEqual(since) }];
    return this.store.manager.find(AlertRecord, { where, order: { raisedAt: 'DESC' }, take: 500 });
  }
}
