import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { CLOCK, type Clock, type TimerHandle } from '../clock/clock.js';
import { MetricsService } from '../observability/metrics.service.js';
import { Store } from '../persistence/store.js';
import type { Deadline, DeadlineChanges } from './deadline.js';
import { DeadlineRepository } from './deadline.repository.js';

export type DeadlineHandler = (deadline: Deadline) => Promise<void>;

/** Hub-clock backoff for a deadline whose handling failed. */
const RETRY_FIRST_MS = 5_000;
const RETRY_MAX_MS = 300_000;

/**
 * Durable deadlines on the hub's clock: stored in the `deadline` table, re-armed at start-up, and told to
 * the owner of their branch when due. One timer for the whole hub, armed for the earliest deadline.
 * A deadline is removed only after its owner handled it, so one that was due while the hub was down
 * fires at start-up; one whose handling failed is tried again (and after a restart); owners are idempotent.
 */
@Injectable()
export class Scheduler implements OnModuleDestroy {
  private readonly logger = new Logger(Scheduler.name);
  private readonly pending = new Map<string, Deadline>();
  /** Handed to their owner and neither moved nor dropped since: a deadline may change while it waits for the owner's turn. */
  private readonly firing = new Map<string, Deadline>();
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
    this.drop(key);
  }

  /** Mirrors changes a caller has just committed in its own transaction (see DeadlineRepository). */
  applied(changes: DeadlineChanges): void {
    for (const key of changes.clear) this.drop(key);
    for (const d of changes.set) this.arm(d);
  }

  /**
   * Whether deadline `d`, handed to its owner, still stands as stored: not moved or dropped since it fired. Every
   * change of a stored deadline reaches the scheduler (`applied`, `schedule`, `cancel`), so the owner asks memory,
   * not the database, in its turn.
   */
  stillDue(d: Deadline): boolean {
    return this.firing.get(d.key) === d;
  }

  get size(): number {
    return this.pending.size;
  }

  dueAt(key: string): string | undefined {
    return this.pending.get(key)?.dueAt;
  }

  private arm(d: Deadline): void {
    if (this.stopped) return;
    this.firing.delete(d.key);
    this.pending.set(d.key, d);
    this.metrics?.deadlinesPending.set(this.pending.size);
    const due = Date.parse(d.dueAt);
    if (due < this.armedFor) this.armTimer(due);
  }

  private drop(key: string): void {
    this.firing.delete(key);
    this.disarm(key);
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
      this.track(this.handle(d));
    }
    let next = Infinity;
    for (const d of this.pending.values()) next = Math.min(next, Date.parse(d.dueAt));
    if (next < Infinity) this.armTimer(next);
  }

  /** Handled, then removed; a failed handling (a database hiccup) is tried again later, backing off, rather than waiting for a restart. */
  private async handle(d: Deadline, attempt = 0): Promise<void> {
    this.firing.set(d.key, d);
    try {
      await this.handler(d);
      if (this.firing.get(d.key) === d) this.firing.delete(d.key);
      await this.repo.removeFired(d);
    } catch (e) {
      const retryMs = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** attempt);
      this.logger.error(`deadline ${d.key}: ${(e as Error).message}; trying again in ${retryMs / 1000} s`);
      this.clock.setTimeout(() => {
        // Not if it was moved or dropped meanwhile.
        if (!this.stopped && this.firing.get(d.key) === d) this.track(this.handle(d, attempt + 1));
      }, retryMs);
    }
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
