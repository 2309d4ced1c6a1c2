import type { BranchConfig } from '../config/config.schema.js';
import type { BranchSummary, QueueView } from '../contracts/views.js';
import type { HubEventMap } from '../hub-events.js';
import type { QueueChange, StoredQueues } from './queue.repository.js';
import { ServiceTimes, estimatedWaitMin } from './wait-estimate.js';

interface ServiceQueue {
  waiting: { ticket: string; issuedAt: string }[];
  /** Called tickets and when (ISO): served ones teach the service time. */
  called: Map<string, string>;
  openCounters: number | null;
  times: ServiceTimes;
}

/**
 * What one branch looks like now: tickets waiting per service with their estimated wait, and people per
 * zone. In memory, changed only by its branch's owner; each queue event returns what to store.
 */
export class QueueBoard {
  private readonly services = new Map<string, ServiceQueue>();
  private readonly zones = new Map<string, number>();

  constructor(private readonly branch: BranchConfig) {
    for (const s of branch.services) this.services.set(s.id, { waiting: [], called: new Map(), openCounters: null, times: new ServiceTimes(s.avgServiceMin) });
  }

  /** Queues as stored before the restart. Occupancy is not kept: cameras refresh it. */
  restore(stored: StoredQueues): void {
    for (const t of stored.tickets) {
      const q = this.services.get(t.service);
      if (!q) continue;
      if (t.state === 'called') q.called.set(t.ticket, t.calledAt ?? t.issuedAt);
      else q.waiting.push({ ticket: t.ticket, issuedAt: t.issuedAt });
    }
    for (const c of stored.counters) {
      const q = this.services.get(c.service);
      if (q) q.openCounters = c.openCounters;
    }
    for (const [service, samples] of stored.samples) {
      const q = this.services.get(service);
      const avg = this.branch.services.find((s) => s.id === service)?.avgServiceMin;
      if (q && avg) q.times = new ServiceTimes(avg, samples);
    }
  }

  /** Applies a queue event; returns what to store. */
  apply(e: HubEventMap['queue']): QueueChange | null {
    const q = this.services.get(e.service);
    if (!q) return null;
    const change: QueueChange = { branchId: this.branch.id, service: e.service };
    const at = e.at.toISOString();
    if (e.event === 'counters') {
      q.openCounters = e.open;
      change.openCounters = e.open;
      return change;
    }
    const wasWaiting = q.waiting.find((w) => w.ticket === e.ticket);
    q.waiting = q.waiting.filter((w) => w.ticket !== e.ticket);
    if (e.event === 'issued') {
      q.waiting.push({ ticket: e.ticket, issuedAt: at });
      change.ticket = { ticket: e.ticket, state: 'waiting', issuedAt: at, calledAt: null };
    } else if (e.event === 'called') {
      q.called.set(e.ticket, at);
      change.ticket = { ticket: e.ticket, state: 'called', issuedAt: wasWaiting?.issuedAt ?? at, calledAt: at };
    } else {
      const calledAt = q.called.get(e.ticket);
      q.called.delete(e.ticket);
      change.closed = e.ticket;
      if (e.event === 'served' && calledAt !== undefined) {
        const minutes = (e.at.getTime() - Date.parse(calledAt)) / 60_000;
        if (q.times.observe(minutes)) change.sample = { minutes, at };
      }
    }
    return change;
  }

  setOccupancy(zone: string, count: number): void {
    this.zones.set(zone, count);
  }

  queues(): Record<string, QueueView> {
    return Object.fromEntries(
      [...this.services].map(([service, q]) => [
        service,
        {
          waiting: [...q.waiting],
          openCounters: q.openCounters,
          minutesPerCustomer: q.times.minutesPerCustomer,
          observedServices: q.times.observed,
          estimatedWaitMin: estimatedWaitMin(q.waiting.length, q.times.minutesPerCustomer, q.openCounters),
        },
      ]),
    );
  }

  occupancy(): Record<string, number> {
    return Object.fromEntries(this.zones);
  }

  summary(ts: string): BranchSummary {
    const queues = Object.entries(this.queues());
    return {
      waiting: Object.fromEntries(queues.map(([s, q]) => [s, q.waiting.length])),
      estimatedWaitMin: Object.fromEntries(queues.map(([s, q]) => [s, q.estimatedWaitMin])),
      occupancy: this.occupancy(),
      ts,
    };
  }
}
