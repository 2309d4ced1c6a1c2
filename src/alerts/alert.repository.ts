import { Injectable } from '@nestjs/common';
import { In, IsNull, MoreThanOrEqual } from 'typeorm';
import type { AlertView } from '../contracts/views.js';
import { AlertRecord } from '../persistence/entities.js';
import { byBranch } from '../persistence/batch.js';
import { GroupCommit } from '../persistence/group-commit.js';
import { Store } from '../persistence/store.js';
import type { Deadline } from '../schedule/deadline.js';
import { DeadlineRepository } from '../schedule/deadline.repository.js';
import { Outbox } from '../uplink/outbox.js';
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
   * Inserts the alert unless its condition already has an open one (the unique index decides), and with it its
   * escalation deadline and headquarters' event, by group commit: in order after what was asked before, not waiting
   * for a transaction of its own. Resolves once committed, with the open alert and whether it is this one.
   */
  async raiseOnce(alert: AlertView, escalation: Deadline | null): Promise<{ alert: AlertView; raised: boolean }> {
    let result!: { alert: AlertView; raised: boolean };
    await this.commits.run(async (em) => {
      await em.createQueryBuilder().insert().into(AlertRecord).values(alert as never).orIgnore().updateEntity(false).execute();
      const open = (await em.findOneBy(AlertRecord, { branchId: alert.branchId, type: alert.type, subject: alert.subject, open: true })) ?? alert;
      const raised = open.id === alert.id;
      if (raised && escalation) await this.deadlines.put(em, escalation);
      if (raised) {
        const { id, type, subject, level, message } = alert;
        await this.outbox.append(em, alert.branchId, { kind: 'alert-raised', alertId: id, type, subject, level, message });
      }
      result = { alert: open, raised };
    });
    return result;
  }

  /**
   * Closes alert `id` if it is still open, and drops its escalation deadline, by group commit like `raiseOnce` (so
   * after the raise it clears); the closed alert once committed, null when it was not open.
   */
  async clear(id: string, escalation: string, at: string): Promise<AlertView | null> {
    let closed: AlertRecord | null = null;
    await this.commits.run(async (em) => {
      const r = await em.update(AlertRecord, { id, open: true }, { open: false, clearedAt: at });
      closed = r.affected ? await em.findOneByOrFail(AlertRecord, { id }) : null;
      if (!closed) return;
      await this.deadlines.remove(em, escalation);
      await this.outbox.append(em, closed.branchId, { kind: 'alert-cleared', alertId: id, type: closed.type, subject: closed.subject });
    });
    return closed;
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
