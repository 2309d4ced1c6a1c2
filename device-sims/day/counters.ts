import type { Clock } from '../../src/clock/clock.js';
import type { QueueSim } from '../queue.js';
import { hash, Random } from '../random.js';

/** A customer holding a ticket, as the counters see them. */
export interface TicketHolder {
  ticket?: string;
  service?: string;
}

export interface CounterHooks<T extends TicketHolder> {
  /** The ticket was called: its holder walks to `counter`; their service starts. */
  called(holder: T, counter: string): void;
  /** Served: the holder leaves the counter. */
  served(holder: T): void;
}

interface Counter {
  id: string;
  open: boolean;
  /** Its clerk is away from the post. */
  away: boolean;
  busy: boolean;
}

interface Line<T> {
  avgMs: number;
  counters: Counter[];
  /** Tickets not yet called, oldest first. */
  waiting: T[];
  /** Its own stream: service times do not depend on how the services' calls interleave. */
  random: Random;
}

/**
 * The branch's counters on the clock. Each service has its own counters, numbered "1", "2", … across
 * services in config order (as many as it ever opens); `open` counters call the oldest waiting ticket
 * and serve it 0.5–1.5× the service's average, so `called` and `served` are a real service time apart.
 * A closing counter finishes its customer first; a counter whose clerk is away calls nobody.
 */
export class Counters<T extends TicketHolder> {
  private readonly lines = new Map<string, Line<T>>();
  private readonly timers = new Set<unknown>();
  private closed = false;
  /** The first publish that failed: the day reports it when it ends. */
  error: Error | undefined;

  constructor(
    private readonly queue: QueueSim,
    private readonly clock: Clock,
    services: readonly { id: string; avgServiceMin: number; maxOpen: number }[],
    seed: number,
    private readonly hooks: CounterHooks<T>,
  ) {
    let n = 0;
    for (const s of services) {
      const counters = Array.from({ length: s.maxOpen }, () => ({ id: String(++n), open: false, away: false, busy: false }));
      this.lines.set(s.id, { avgMs: s.avgServiceMin * 60_000, counters, waiting: [], random: new Random(seed ^ hash(s.id)) });
    }
  }

  /** Opens or closes counters of a service to `open`, and tells the queue system. */
  setOpen(service: string, open: number): void {
    const line = this.lines.get(service);
    if (!line) return;
    line.counters.forEach((c, i) => (c.open = i < open));
    this.send(this.queue.openCounters(service, Math.min(open, line.counters.length)));
    this.next(line);
  }

  /** One open counter of the service has nobody at it for `ms` (its clerk left the post). */
  away(service: string, ms: number): void {
    const line = this.lines.get(service);
    const counter = line?.counters.find((c) => c.open && !c.away);
    if (!line || !counter) return;
    counter.away = true;
    this.later(() => {
      counter.away = false;
      this.next(line);
    }, ms);
  }

  /** A ticket joins its service's line; a free counter calls it at once. */
  join(holder: T): void {
    const line = this.lines.get(holder.service ?? '');
    if (!line) return;
    line.waiting.push(holder);
    this.next(line);
  }

  /** Takes a ticket out of the line (its holder gave up, or went to a kiosk); false if it was no longer waiting. */
  leave(holder: T): boolean {
    const line = this.lines.get(holder.service ?? '');
    const i = line?.waiting.indexOf(holder) ?? -1;
    if (i < 0) return false;
    line!.waiting.splice(i, 1);
    return true;
  }

  /** Tickets not yet called: of a service, or of all. */
  waiting(service?: string): T[] {
    if (service) return this.lines.get(service)?.waiting ?? [];
    return [...this.lines.values()].flatMap((l) => l.waiting);
  }

  /** Stops calling and serving. */
  close(): void {
    this.closed = true;
    for (const timer of this.timers) this.clock.clearTimeout(timer);
    this.timers.clear();
  }

  private next(line: Line<T>): void {
    for (const counter of line.counters) {
      if (this.closed || !line.waiting.length) return;
      if (!counter.open || counter.away || counter.busy) continue;
      const holder = line.waiting.shift()!;
      counter.busy = true;
      this.send(this.queue.call(holder.ticket!, holder.service!, counter.id));
      this.hooks.called(holder, counter.id);
      this.later(() => {
        this.send(this.queue.serve(holder.ticket!, holder.service!, counter.id));
        counter.busy = false;
        this.hooks.served(holder);
        this.next(line);
      }, line.avgMs * line.random.between(0.5, 1.5));
    }
  }

  private later(fn: () => void, ms: number): void {
    const timer = this.clock.setTimeout(() => {
      this.timers.delete(timer);
      if (!this.closed) fn();
    }, ms);
    this.timers.add(timer);
  }

  private send(p: Promise<void>): void {
    p.catch((e: Error) => (this.error ??= e));
  }
}
