/**
 * Estimated wait (contract section 5): waiting tickets (a just-issued one included) × the service's time
 * per customer ÷ max(1, open counters). The time per customer starts as the configured `avgServiceMin`
 * and is replaced by what the branch actually does: the median of the last SAMPLE_WINDOW called→served
 * durations, once MIN_SAMPLES of them have been seen. Durations no counter could take are ignored:
 * shorter than a tenth of the configured average (and than 15 s), or longer than ten times it (or 8 h) —
 * a queue system that reports `called` and `served` back to back, or a ticket left open all day, says
 * nothing about how long a customer takes.
 */
export const MIN_SAMPLES = 5;
export const SAMPLE_WINDOW = 20;

export class ServiceTimes {
  readonly minPlausible: number;
  readonly maxPlausible: number;

  constructor(
    private readonly configuredMin: number,
    /** Minutes per served customer, oldest first: kept across restarts. */
    readonly samples: number[] = [],
  ) {
    this.minPlausible = Math.max(0.25, configuredMin / 10);
    this.maxPlausible = Math.min(8 * 60, configuredMin * 10);
  }

  /** One customer served: minutes from being called to being served. False when the duration is not plausible (ignored). */
  observe(minutes: number): boolean {
    if (!(minutes >= this.minPlausible && minutes <= this.maxPlausible)) return false;
    this.samples.push(minutes);
    if (this.samples.length > SAMPLE_WINDOW) this.samples.shift();
    return true;
  }

  get observed(): number {
    return this.samples.length;
  }

  /** Minutes per customer: observed median when there is enough data, else the configured average. */
  get minutesPerCustomer(): number {
    return this.samples.length < MIN_SAMPLES ? this.configuredMin : median(this.samples);
  }
}

export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function estimatedWaitMin(waiting: number, minutesPerCustomer: number, openCounters: number | null): number {
  return Math.round(((waiting * minutesPerCustomer) / Math.max(1, openCounters ?? 0)) * 10) / 10;
}
