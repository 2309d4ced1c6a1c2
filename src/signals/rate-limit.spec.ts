import { BURST_SEC, RateLimiter } from './rate-limit.js';

describe('RateLimiter', () => {
  let now = 0;
  const limiter = () => new RateLimiter(() => now);
  const takes = (l: RateLimiter, device: string, n: number, perSec: number) => Array.from({ length: n }, () => l.take(device, perSec)).filter(Boolean).length;

  beforeEach(() => (now = 1_000_000));

  it(`lets a device send ${BURST_SEC} seconds of its rate at once, then its rate, and no more`, () => {
    const l = limiter();
    expect(takes(l, 'cam-1', 1000, 50)).toBe(50 * BURST_SEC);
    now += 1000;
    expect(takes(l, 'cam-1', 1000, 50)).toBe(50);
    now += 100;
    expect(takes(l, 'cam-1', 1000, 50)).toBe(5);
  });

  it('keeps each device to its own allowance', () => {
    const l = limiter();
    expect(takes(l, 'cam-1', 1000, 10)).toBe(10 * BURST_SEC);
    expect(takes(l, 'robot-1', 3, 10)).toBe(3);
  });

  it('refills no more than the burst after a long silence, and never from a clock that went back', () => {
    const l = limiter();
    takes(l, 'qms-1', 1000, 20);
    now += 3_600_000;
    expect(takes(l, 'qms-1', 1000, 20)).toBe(20 * BURST_SEC);
    now -= 10_000;
    expect(takes(l, 'qms-1', 10, 20)).toBe(0);
  });
});
