import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { CLOCK, type Clock, type TimerHandle } from '../clock/clock.js';
import { MetricsService } from '../observability/metrics.service.js';
import { Store } from '../persistence/store.js';
import type { Deadline, DeadlineChanges } from './deadline.js';
import { DeadlineRepository } from './deadline.repository.js';

export type DeadlineHandler = (deadline: Deadline) => Promise<void>;

/**
 * Durable deadlines on the hub's clock: stored in the `deadline` table, re-armed at start-up, and told to
 * the owner of their branch when due. One timer for the whole hub, armed for the earliest deadline.
 * A deadline is removed only after its owner handled it, so one that was due while the hub was down
 * fires at start-up, and one whose handling crashed fires again after a restart (owners are idempotent).
 */
@Injectable()
export class Scheduler implements OnModuleDestroy {
  private readonly logger = new Logger(Scheduler.name);
  private readonly pending = new Map<string, Deadline>();
  private readonly handling = new Set<Promise<void>>();
  private timer?: TimerHandle;
  private armedFor = Infinity;
  private stopped = false;
  private handler: DeadlineHandler = async () => {};

  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly repo: DeadlineRepository,
    private readonly store: Store,
    private readonly metrics?: MetricsService,
  ) {}

  /** Who is told when a deadline is due (the branch owners). */
  onDue(handler: DeadlineHandler): void {
    this.handler = handler;
  }

  /** Arms every stored deadline; those already past fire at once. */
  async load(): Promise<void> {
    for (const d of await this.repo.all()) this.arm(d);
  }

  /** Stores one deadline on its own and arms it. */
  async schedule(d: Deadline): Promise<void> {
    await this.store.transaction((em) => this.repo.put(em, d));
    this.arm(d);
  }

  async cancel(key: string): Promise<void> {
    await this.store.transaction((em) => this.repo.remove(em, key));
    this.disarm(key);
  }

  /** Mirrors changes a caller has just committed in its own transaction (see DeadlineRepository). */
  applied(changes: DeadlineChanges): void {
    for (const key of changes.clear) this.disarm(key);
    for (const d of changes.set) this.arm(d);
  }

  get size(): number {
    return this.pending.size;
  }

  dueAt(key: string): string | undefined {
    return this.pending.get(key)?.dueAt;
  }

  private arm(d: Deadline): void {
    if (this.stopped) return;
    this.pending.set(d.key, d);
    this.metrics?.deadlinesPending.set(this.pending.size);
    const due = Date.parse(d.dueAt);
    if (due < this.armedFor) this.armTimer(due);
  }

  /** The timer may still fire for it: it then finds nothing due and re-arms for the next one. */
  private disarm(key: string): void {
    this.pending.delete(key);
    this.metrics?.deadlinesPending.set(this.pending.size);
  }

  private armTimer(due: number): void {
    this.clock.clearTimeout(this.timer);
    this.armedFor = due;
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, due - this.clock.now()));
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    if (this.stopped) return;
    const now = this.clock.now();
    const due = [...this.pending.values()].filter((d) => Date.parse(d.dueAt) <= now).sort((a, b) => a.dueAt.localeCompare(b.dueAt));
    for (const d of due) {
      this.disarm(d.key);
      this.track(this.handler(d).then(() => this.repo.removeFired(d)));
    }
    let next = Infinity;
    for (const d of this.pending.values()) next = Math.min(next, Date.parse(d.dueAt));
    if (next < Infinity) this.armTimer(next);
  }

  private track(work: Promise<unknown>): void {
    const p = work
      .then(() => undefined)
      .catch((e: unknown) => this.logger.error(`deadline: ${(e as Error).stack ?? String(e)}`))
      .finally(() => this.handling.delete(p));
    this.handling.add(p);
  }

  /** Stored deadlines stay for the next start; handling already under way is finished first. */
  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    await Promise.all(this.handling);
  }
}
