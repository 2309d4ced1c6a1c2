/**
 * The hub's one clock (contract section 9). Everything that reads the time or waits for it goes through
 * a `Clock`: services, flow actors (`createActor(machine, { clock })`), the scheduler and the simulators.
 * XState's `SimulatedClock` fits this interface too, so unit tests drive time by hand.
 */
export interface Clock {
  /** Epoch ms on this clock. */
  now(): number;
  /** Calls `fn` after `ms` of this clock's time. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

export type TimerHandle = any;

/** Nest injection token of the hub's clock. */
export const CLOCK = Symbol('Clock');

/** Node cannot arm a timer longer than this (it fires at once instead). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Real time, optionally started at another time and running `scale` times faster: a rule of 60 s takes
 * 60 / scale real seconds. Reads a monotonic source, so a wall-clock step (NTP) does not move it.
 * Timers are unref'd: a pending deadline never keeps a process alive on its own.
 */
export class ScaledClock implements Clock {
  private readonly realStart = performance.now();
  readonly start: number;

  constructor(
    readonly scale = 1,
    start?: number,
  ) {
    if (!(scale > 0)) throw new Error(`time scale must be > 0, not ${scale}`);
    // The one place that reads wall time: where the clock starts when nothing else says.
    this.start = start ?? Date.now();
  }

  now(): number {
    return this.start + (performance.now() - this.realStart) * this.scale;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle: { timer?: NodeJS.Timeout } = {};
    const due = this.now() + Math.max(0, ms);
    const realMsLeft = () => (due - this.now()) / this.scale;
    // Node may fire a millisecond early (its loop time is cached) and caps delays: check, and wait the rest.
    const arm = (realMs: number) => {
      handle.timer = setTimeout(() => (realMsLeft() > 0 ? arm(realMsLeft()) : fn()), Math.min(Math.ceil(realMs), MAX_TIMER_MS));
      handle.timer.unref();
    };
    arm(Math.max(0, realMsLeft()));
    return handle;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle) clearTimeout((handle as { timer?: NodeJS.Timeout }).timer);
  }
}

const isoStrings = new Map<number, string>();

/**
 * `new Date(ms).toISOString()`, remembered for the last few hundred milliseconds asked: it costs ~450 ns in Node 20,
 * and each device message asks for the same few again and again (its time, the buckets it falls in, the hub's now).
 */
export function isoAt(ms: number): string {
  const whole = Math.trunc(ms); // what Date keeps of it
  let iso = isoStrings.get(whole);
  if (iso === undefined) {
    iso = new Date(whole).toISOString(); // throws for NaN, as Date does
    if (isoStrings.size >= 512) isoStrings.clear();
    isoStrings.set(whole, iso);
  }
  return iso;
}

/** The clock's time as a Date / ISO string: how the hub stamps what it reports. */
export const dateOf = (clock: Clock): Date => new Date(clock.now());
export const isoOf = (clock: Clock): string => isoAt(clock.now());

/** Resolves after `ms` of the clock's time. */
export const sleep = (clock: Clock, ms: number): Promise<void> => new Promise((resolve) => clock.setTimeout(resolve, ms));
