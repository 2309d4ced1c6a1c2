import { isoAt } from '../clock/clock.js';
import type { QueueView } from '../contracts/views.js';
import type { HubEventMap } from '../hub-events.js';
import type { QueueChange } from './queue.repository.js';
import { SAMPLE_WINDOW, ServiceTimes, estimatedWaitMin, median } from './wait-estimate.js';

type TicketEvent = Extract<HubEventMap['queue'], { ticket: string }>;

/**
 * One service's queue as the ticketing system reports it: tickets waiting (oldest first), tickets at a
 * counter, open counters, and what the branch has observed — called→served times for the estimate
 * (see wait-estimate.ts) and issued→called waits.
 */
export class ServiceQueue {
  waiting: { ticket: string; issuedAt: string; appointment?: string }[] = [];
  /** Tickets at a counter and when they were called (ISO). */
  readonly called = new Map<string, string>();
  openCounters: number | null = null;
  times: ServiceTimes;
  /** Issued→called minutes of the last SAMPLE_WINDOW customers (kept in memory: the estimate does not use them). */
  readonly waits: number[] = [];
  served = 0;
  abandoned = 0;

  constructor(
    readonly branchId: string,
    readonly service: string,
    readonly avgServiceMin: number,
    readonly zone: string,
  ) {
    this.times = new ServiceTimes(avgServiceMin);
  }

  /** Applies a ticket event; returns what to store. */
  ticket(e: TicketEvent): QueueChange {
    const change: QueueChange = { branchId: this.branchId, service: this.service };
    const at = isoAt(e.at.getTime());
    const wasWaiting = this.waiting.find((w) => w.ticket === e.ticket);
    this.waiting = this.waiting.filter((w) => w.ticket !== e.ticket);
    if (e.event === 'issued') {
      this.waiting.push({ ticket: e.ticket, issuedAt: at, ...(e.appointment ? { appointment: e.appointment } : {}) });
      change.ticket = { ticket: e.ticket, state: 'waiting', issuedAt: at, calledAt: null, appointment: e.appointment ?? null };
    } else if (e.event === 'called') {
      this.called.set(e.ticket, at);
      if (wasWaiting) {
        change.waitedMin = (e.at.getTime() - Date.parse(wasWaiting.issuedAt)) / 60_000;
        this.observeWait(change.waitedMin);
      }
      change.ticket = { ticket: e.ticket, state: 'called', issuedAt: wasWaiting?.issuedAt ?? at, calledAt: at, appointment: wasWaiting?.appointment ?? null };
    } else {
      const calledAt = this.called.get(e.ticket);
      this.called.delete(e.ticket);
      change.closed = e.ticket;
      if (e.event === 'abandoned') this.abandoned += 1;
      else {
        this.served += 1;
        const minutes = calledAt === undefined ? NaN : (e.at.getTime() - Date.parse(calledAt)) / 60_000;
        if (minutes >= 0) change.servedMin = minutes;
        if (this.times.observe(minutes)) change.sample = { minutes, at };
      }
    }
    return change;
  }

  counters(open: number): QueueChange {
    this.openCounters = open;
    return { branchId: this.branchId, service: this.service, openCounters: open };
  }

  get estimatedWaitMin(): number {
    return estimatedWaitMin(this.waiting.length, this.times.minutesPerCustomer, this.openCounters);
  }

  view(): QueueView {
    return {
      zone: this.zone,
      waiting: [...this.waiting],
      called: this.called.size,
      openCounters: this.openCounters,
      minutesPerCustomer: this.times.minutesPerCustomer,
      observedServices: this.times.observed,
      observedWaitMin: this.waits.length ? Math.round(median(this.waits) * 10) / 10 : null,
      served: this.served,
      abandoned: this.abandoned,
      estimatedWaitMin: this.estimatedWaitMin,
    };
  }

  private observeWait(minutes: number): void {
    if (!(minutes >= 0)) return;
    this.waits.push(minutes);
    if (this.waits.length > SAMPLE_WINDOW) this.waits.shift();
  }
}
