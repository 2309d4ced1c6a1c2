import { ScaledClock, isoAt, isoOf, sleep } from './clock.js';

describe('ScaledClock', () => {
  it('starts at the given time and runs `scale` times faster than real time', async () => {
    const start = Date.parse('2026-11-23T09:00:00+08:00');
    const clock = new ScaledClock(60, start);
    expect(Math.abs(clock.now() - start)).toBeLessThan(60 * 20);
    const real0 = performance.now();
    await sleep(clock, 6000); // six hub seconds: a tenth of a real second
    const realMs = performance.now() - real0;
    expect(realMs).toBeGreaterThanOrEqual(95);
    expect(realMs).toBeLessThan(400);
    expect(clock.now() - start).toBeGreaterThanOrEqual(6000);
    expect(isoOf(clock).startsWith('2026-11-23T01:0')).toBe(true);
  });

  it('shows real time by default', () => {
    const clock = new ScaledClock();
    expect(Math.abs(clock.now() - Date.now())).toBeLessThan(50);
  });

  it('fires a timer no earlier than its time on the clock, and not at all once cleared', async () => {
    const clock = new ScaledClock(10);
    const fired: number[] = [];
    const due = clock.now() + 500;
    clock.setTimeout(() => fired.push(clock.now()), 500);
    const cleared = clock.setTimeout(() => fired.push(-1), 100);
    clock.clearTimeout(cleared);
    await sleep(clock, 800);
    expect(fired).toHaveLength(1);
    expect(fired[0]).toBeGreaterThanOrEqual(due - 1);
  });

  it('refuses a scale that is not positive', () => {
    expect(() => new ScaledClock(0)).toThrow(/time scale/);
    expect(() => new ScaledClock(-2)).toThrow(/time scale/);
  });
});

describe('isoAt', () => {
  it('is what Date says, for fractional, negative and many different times (remembered or not), and throws for NaN as Date does', () => {
    const times = [0, 1.9, -1.5, 1_764_756_000_123.7, ...Array.from({ length: 2_000 }, (_, i) => 1_764_756_000_000 + i * 997.3)];
    for (const round of [1, 2]) for (const ms of times) expect([round, isoAt(ms)]).toEqual([round, new Date(ms).toISOString()]);
    expect(() => isoAt(NaN)).toThrow(RangeError);
  });
});
