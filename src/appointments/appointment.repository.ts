import { Injectable } from '@nestjs/common';
import { In, MoreThanOrEqual } from 'typeorm';
import type { AppointmentView } from '../contracts/views.js';
import { AppointmentRecord } from '../persistence/entities.js';
import { upsertAll } from '../persistence/batch.js';
import { Store } from '../persistence/store.js';
import type { DeadlineChanges } from '../schedule/deadline.js';
import { DeadlineRepository } from '../schedule/deadline.repository.js';
import { Outbox } from '../uplink/outbox.js';

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

  /** The live one with this ref (booked, due or arrived), if any. */
  byRef(branchId: string, ref: string): Promise<AppointmentView | null> {
    return this.store.manager.findOneBy(AppointmentRecord, { branchId, ref, state: In(['accepted', 'due', 'arrived']) }) as Promise<AppointmentView | null>;
  }

  /** The arrived one holding this ticket of this service; the latest, should a number come round again. */
  byTicket(branchId: string, service: string, ticket: string): Promise<AppointmentView | null> {
    return this.store.manager.findOne(AppointmentRecord, { where: { branchId, service, ticket, state: 'arrived' }, order: { updatedAt: 'DESC' } }) as Promise<AppointmentView | null>;
  }

  /** Those expected from `since` on, and every one still live; by time. */
  list(branchId: string, since: string): Promise<AppointmentView[]> {
    return this.store.manager.find(AppointmentRecord, {
      where: [{ branchId, at: MoreThanOrEqual(since) }, { branchId, state: In(['accepted', 'due', 'arrived']) }],
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
