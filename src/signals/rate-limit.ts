/** How many seconds of its rate a device may send at once: a queue system catching up after a short outage. */
export const BURST_SEC = 5;

/**
 * Each device's allowance (contract section 3, `maxMsgPerSec`): a token bucket on the hub's clock, refilled at the
 * rate and holding up to BURST_SEC of it. In memory only: a restart gives every device its full allowance, which
 * costs nothing a device could not already do by reconnecting.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly now: () => number) {}

  /** Whether `device` may send one more message at `perSec`; takes it from its allowance if so. */
  take(device: string, perSec: number): boolean {
    const now = this.now();
    const full = perSec * BURST_SEC;
    const b = this.buckets.get(device);
    if (!b) {
      this.buckets.set(device, { tokens: full - 1, at: now });
      return true;
    }
    b.tokens = Math.min(full, b.tokens + (Math.max(0, now - b.at) / 1000) * perSec);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
