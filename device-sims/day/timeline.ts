import type { Clock } from '../../src/clock/clock.js';

/**
 * The played part of a branch day on the hub's clock: minutes of the day as hub time, and the day's timers —
 * skipped once the day is aborted, cleared when it ends.
 */
export class DayTimeline {
  private readonly timers = new Set<unknown>();
  /** Hub time when the played part began (its first minute). */
  readonly start: number;

  constructor(
    private readonly clock: Clock,
    readonly fromMin: number,
    readonly toMin: number,
    private readonly signal?: AbortSignal,
  ) {
    this.start = clock.now();
  }

  /** Hub time of a minute of the day. */
  timeOf(minute: number): number {
    return this.start + (minute - this.fromMin) * 60_000;
  }

  /** Runs `fn` at a minute of the day, if it falls in the played part. */
  at(minute: number, fn: () => void): void {
    if (minute < this.fromMin || minute >= this.toMin) return;
    this.later(fn, this.timeOf(minute) - this.clock.now());
  }

  /** Runs `fn` after `ms` of hub time, unless the day was aborted. */
  later(fn: () => void, ms: number): void {
    const t = this.clock.setTimeout(() => {
      this.timers.delete(t);
      if (!this.signal?.aborted) fn();
    }, ms);
    this.timers.add(t);
  }

  /** The day is over: nothing more runs. */
  clear(): void {
    for (const t of this.timers) this.clock.clearTimeout(t);
    this.timers.clear();
  }
}
