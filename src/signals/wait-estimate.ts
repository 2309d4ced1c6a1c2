/**
 * Estimated wait (contract section 5): waiting tickets (a just-issued one included) × the service's time
 * per customer ÷ max(1, open counters). The time per customer starts as the configured `avgServiceMin`
 * and is replaced by what the branch actually does: the median of the last SAMPLE_WINDOW called→served
 * durations, once MIN_SAMPLES of them have been seen.
 */
export const MIN_SAMPLES = 5;
export const SAMPLE_WINDOW = 20;

export class ServiceTimes {
  constructor(
    private readonly configuredMin: number,
    /** Minutes per served customer, oldest first: kept across restarts. */
    readonly samples: number[] = [],
  ) {}

  /** One customer served: minutes from being called to being served. */
  observe(minutes: number): void {
    if (!(minutes > 0) || minutes > 8 * 60) return; // a clock jump or a ticket left open all day says nothing
    this.samples.push(minutes);
    if (this.samples.length > SAMPLE_WINDOW) this.samples.shift();
  }

  get observed(): number {
    return this.samples.length;
  }

  /** Minutes per customer: observed median when there is enough data, else the configured average. */
  get minutesPerCustomer(): number {
    if (this.samples.length < MIN_SAMPLES) return this.configuredMin;
    const sorted = [...this.samples].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }
}

export function estimatedWaitMin(waiting: number, minutesPerCustomer: number, openCounters: number | null): number {
  return Math.round(((waiting * minutesPerCustomer) / Math.max(1, openCounters ?? 0)) * 10) / 10;
}
