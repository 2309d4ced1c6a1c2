import { MIN_SAMPLES, SAMPLE_WINDOW, ServiceTimes, estimatedWaitMin } from './wait-estimate.js';

describe('estimated wait', () => {
  it('is waiting × minutes per customer ÷ max(1, open counters)', () => {
    expect(estimatedWaitMin(7, 8, 2)).toBe(28);
    expect(estimatedWaitMin(7, 8, 0)).toBe(56);
    expect(estimatedWaitMin(7, 8, null)).toBe(56);
    expect(estimatedWaitMin(1, 5, 3)).toBe(1.7);
    expect(estimatedWaitMin(0, 5, 1)).toBe(0);
  });

  it('uses the configured average until enough customers were served, then their median', () => {
    const t = new ServiceTimes(6);
    for (let i = 0; i < MIN_SAMPLES - 1; i++) t.observe(10);
    expect(t.minutesPerCustomer).toBe(6);
    t.observe(12);
    expect(t.minutesPerCustomer).toBe(10);
    t.observe(30); // one very long customer does not move the median
    expect(t.minutesPerCustomer).toBe(10);
    t.observe(30);
    t.observe(30);
    expect(t.minutesPerCustomer).toBe(11); // 10 10 10 10 | 12 30 30 30
  });

  it('forgets old customers and ignores impossible durations', () => {
    const t = new ServiceTimes(6);
    for (let i = 0; i < SAMPLE_WINDOW; i++) t.observe(20);
    for (let i = 0; i < SAMPLE_WINDOW; i++) t.observe(4);
    expect(t.minutesPerCustomer).toBe(4);
    t.observe(-3);
    t.observe(0);
    t.observe(24 * 60);
    expect(t.observed).toBe(SAMPLE_WINDOW);
  });

  it('does not learn from a queue system that reports called and served back to back', () => {
    const t = new ServiceTimes(6);
    // A few milliseconds, a few seconds, half a minute: no counter serves a customer that fast.
    for (const minutes of [0.00005, 0.001, 0.1, 0.5]) expect(t.observe(minutes)).toBe(false);
    for (let i = 0; i < MIN_SAMPLES * 2; i++) t.observe(0.01);
    expect(t.minutesPerCustomer).toBe(6);
    expect(estimatedWaitMin(5, t.minutesPerCustomer, 1)).toBe(30);
    expect(t.observe(61)).toBe(false); // over ten times the configured average
    expect(t.observe(0.6)).toBe(true); // a tenth of it is still a customer
  });
});
