import { Injectable } from '@nestjs/common';
import { In } from 'typeorm';
import { byBranch } from '../persistence/batch.js';
import { GroupCommit } from '../persistence/group-commit.js';
import { QueueServiceRecord, QueueTicketRecord, ServiceTimeRecord } from '../persistence/entities.js';
import { insertRows, statementOf } from '../persistence/row-statements.js';
import type { Statement } from '../persistence/sql-script.js';
import { Store } from '../persistence/store.js';
import { SAMPLE_WINDOW } from './wait-estimate.js';

/** What one queue event changes in storage. */
export interface QueueChange {
  branchId: string;
  service: string;
  /** A ticket issued or called. */
  ticket?: { ticket: string; state: 'waiting' | 'called'; issuedAt: string; calledAt: string | null; appointment: string | null };
  /** A ticket served or abandoned. */
  closed?: string;
  openCounters?: number;
  /** For analytics, not stored here: minutes from issued to called, and from called to served. */
  waitedMin?: number;
  servedMin?: number;
  /** A called→served duration the estimate learned from. */
  sample?: { minutes: number; at: string };
}

export interface StoredQueues {
  tickets: QueueTicketRecord[];
  counters: QueueServiceRecord[];
  /** Per service, the last SAMPLE_WINDOW durations, oldest first. */
  samples: Map<string, number[]>;
}

/** Queue state of each branch: tickets the queue system will not announce again, counters, service times. */
@Injectable()
export class QueueRepository {
  constructor(
    private readonly store: Store,
    private readonly commits: GroupCommit,
  ) {}

  /** Each branch's queues, for start-up: one query per table for all of them. */
  async loadByBranch(branchIds: string[]): Promise<Map<string, StoredQueues>> {
    const m = this.store.manager;
    const [tickets, counters, times] = await Promise.all([
      byBranch(branchIds, (ids) => m.find(QueueTicketRecord, { where: { branchId: In(ids) }, order: { issuedAt: 'ASC' } })),
      byBranch(branchIds, (ids) => m.findBy(QueueServiceRecord, { branchId: In(ids) })),
      byBranch(branchIds, (ids) => m.find(ServiceTimeRecord, { where: { branchId: In(ids) }, order: { id: 'ASC' } })),
    ]);
    const stored = (id: string): StoredQueues => {
      const samples = new Map<string, number[]>();
      for (const t of times.get(id) ?? []) samples.set(t.service, [...(samples.get(t.service) ?? []), t.minutes].slice(-SAMPLE_WINDOW));
      return { tickets: tickets.get(id) ?? [], counters: counters.get(id) ?? [], samples };
    };
    return new Map(branchIds.map((id) => [id, stored(id)]));
  }

  /**
   * By group commit (`later`: nothing that leaves the hub waits for it but the summary, which waits for this), in the
   * order asked: a ticket's row as it is now, gone once it is closed.
   */
  save(c: QueueChange): Promise<void> {
    const { branchId, service } = c; // spelled out in each row: see IngestService.accept
    return this.commits.later(() => {
      if (c.ticket) void this.commits.put(QueueTicketRecord, ['branchId', 'service', 'ticket'], { branchId, service, ...c.ticket });
      if (c.closed) void this.commits.remove(QueueTicketRecord, { branchId, service, ticket: c.closed });
      if (c.openCounters !== undefined) void this.commits.put(QueueServiceRecord, ['branchId', 'service'], { branchId, service, openCounters: c.openCounters });
      // Statements, not a TypeORM work: a work turns the whole group commit into a transaction of round trips.
      if (c.sample) void this.commits.execute([insertRows(this.store.manager, ServiceTimeRecord, [{ branchId, service, ...c.sample }]), this.keepWindow(c.branchId, c.service)]);
    });
  }

  /** Only the window the estimate uses is kept: the service's newest SAMPLE_WINDOW durations. */
  private keepWindow(branchId: string, service: string): Statement {
    return statementOf(this.store.manager, (v) => {
      const mine = `"branchId" = ${v(branchId)} AND "service" = ${v(service)}`;
      return `DELETE FROM "service_time" WHERE ${mine} AND "id" NOT IN (SELECT "id" FROM "service_time" WHERE ${mine} ORDER BY "id" DESC LIMIT ${SAMPLE_WINDOW})`;
    });
  }
}
