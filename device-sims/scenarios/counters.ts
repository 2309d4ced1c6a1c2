import type { Clock, TimerHandle } from '../../src/clock/clock.js';
import type { QueueSim } from '../queue.js';
import { hash, Random } from '../random.js';

export interface CounterService {
  id: string;
  avgServiceMin: number;
  /** Counters serving it in parallel. */
  open: number;
}

interface Line {
  avgMs: number;
  /** Counters free now, the one free longest first. */
  free: string[];
  /** Tickets not yet called, oldest first. */
  waiting: string[];
  /** Its own stream: service times then do not depend on how calls of different services interleave. */
  random: Random;
}

/**
 * The branch's counters on the clock. Each service has `open` counters (numbered "1", "2", … across
 * services in config order); a free counter calls the oldest waiting ticket and serves it 0.5–1.5× the
 * service's average later, so `called` and `served` are a real service time apart, as at a real branch.
 */
export class Counters {
  private readonly lines = new Map<string, Line>();
  private readonly timers = new Set<TimerHandle>();
  private closed = false;
  served = 0;
  /** The first publish that failed: the day reports it when it ends. */
  error: Error | undefined;

  constructor(
    private readonly queue: QueueSim,
    private readonly clock: Clock,
    services: readonly CounterService[],
    seed: number,
  ) {
    let n = 0;
    for (const s of services) {
      const free = Array.from({ length: s.open }, () => String(++n));
      this.lines.set(s.id, { avgMs: s.avgServiceMin * 60_000, free, waiting: [], random: new Random(seed ^ hash(s.id)) });
    }
  }

  /** Announces how many counters each service has open. */
  async open(): Promise<void> {
    for (const [service, line] of this.lines) await this.queue.openCounters(service, line.free.length);
  }

  /** Tickets not yet called, over all services. */
  get waiting(): number {
    let n = 0;
    for (const line of this.lines.values()) n += line.waiting.length;
    return n;
  }

  /** An issued ticket joins its service's line; a free counter calls it at once. */
  join(ticket: string, service: string): void {
    const line = this.lines.get(service);
    if (!line) return;
    line.waiting.push(ticket);
    this.next(service, line);
  }

  /** Stops calling and serving; tickets at a counter stay called. */
  close(): void {
    this.closed = true;
    for (const timer of this.timers) this.clock.clearTimeout(timer);
    this.timers.clear();
  }

  private next(service: string, line: Line): void {
    while (!this.closed && line.free.length && line.waiting.length) {
      const counter = line.free.shift()!;
      const ticket = line.waiting.shift()!;
      const serviceMs = line.avgMs * line.random.between(0.5, 1.5);
      this.queue.call(ticket, service, counter).then(() => {
        if (this.closed) return;
        const timer = this.clock.setTimeout(() => {
          this.timers.delete(timer);
          this.queue.serve(ticket, service, counter).then(() => {
            this.served += 1;
            line.free.push(counter);
            this.next(service, line);
          }, this.fail);
        }, serviceMs);
        this.timers.add(timer);
      }, this.fail);
    }
  }

  private readonly fail = (e: Error): void => {
    this.error ??= e;
  };
}
