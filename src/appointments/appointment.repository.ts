import { Injectable } from '@nestjs/common';
import { In, MoreThanOrEqual } from 'typeorm';
import type { AppointmentState, AppointmentView } from '../contracts/views.js';
import { AppointmentRecord } from '../persistence/entities.js';
import { byBranch, upsertAll } from '../persistence/batch.js';
import { Store } from '../persistence/store.js';
import type { DeadlineChanges } from '../schedule/deadline.js';
import { DeadlineRepository } from '../schedule/deadline.repository.js';
import { Outbox } from '../uplink/outbox.js';

/** Appointments still expected or being served: a ticket or a ref may name one of them. */
export const LIVE_STATES: AppointmentState[] = ['accepted', 'due', 'arrived'];

/** Appointments. Each change is stored with its deadlines and headquarters' `request-status` event, in one transaction. */
@Injectable()
export class AppointmentRepository {
  constructor(
    private readonly store: Store,
    private readonly deadlines: DeadlineRepository,
    private readonly outbox: Outbox,
  ) {}

  get(branchId: string, requestId: string): Promise<AppointmentView | null> {
    return this.store.manager.findOneBy(AppointmentRecord, { branchId, requestId }) as Promise<AppointmentView | null>;
  }

  /** The live ones (booked, due or arrived) of these branches, what their owners take over; by branch. */
  liveByBranch(ids: string[]): Promise<Map<string, AppointmentView[]>> {
    return byBranch(ids, (part) => this.store.manager.find(AppointmentRecord, { where: { branchId: In(part), state: In(LIVE_STATES) }, order: { updatedAt: 'ASC' } }) as Promise<AppointmentView[]>);
  }

  /** Those expected from `since` on, and every one still live; by time. */
  list(branchId: string, since: string): Promise<AppointmentView[]> {
    return this.store.manager.find(AppointmentRecord, {
      where: [{ branchId, at: MoreThanOrEqual(since) }, { branchId, state: In(LIVE_STATES) }],
      order: { at: 'ASC' },
      take: 500,
    }) as Promise<AppointmentView[]>;
  }

  /** Stores the appointment as it is now, its deadline changes, and its status for headquarters. */
  save(a: AppointmentView, deadlines: DeadlineChanges): Promise<void> {
    return this.store.transaction(async (em) => {
      await upsertAll(em, AppointmentRecord, [a], ['branchId', 'requestId']);
      await this.deadlines.apply(em, deadlines);
      await this.outbox.append(em, a.branchId, { kind: 'request-status', requestId: a.requestId, state: a.state, ...(a.reason ? { reason: a.reason } : {}) });
    });
  }

  /** A redelivered request: its last status again, nothing else. */
  repeat(a: AppointmentView): Promise<void> {
    return this.store.transaction((em) =>
      this.outbox.append(em, a.branchId, { kind: 'request-status', requestId: a.requestId, state: a.state, ...(a.reason ? { reason: a.reason } : {}) }),
    );
  }
}
