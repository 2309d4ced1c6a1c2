/**
 * Erlang C (M/M/c): how many counters keep the wait of a share of customers under a target, from the
 * arrival rate and the mean service time. Its assumptions — Poisson arrivals, exponential service times,
 * nobody leaves the line, one steady hour — and what they mean for a branch are in docs/analytics.md.
 */

/** Probability that an arriving customer waits at all, with `c` counters and offered load `a` Erlangs (c > a). */
export function erlangC(c: number, a: number): number {
  // Erlang B by its stable recursion, then C from B.
  let b = 1;
  for (let k = 1; k <= c; k++) b = (a * b) / (k + a * b);
  return b / (1 - (a / c) * (1 - b));
}

/** Share of customers who wait at most `targetMin`, with `c` counters. */
export function serviceLevel(c: number, arrivalsPerHour: number, serviceMin: number, targetMin: number): number {
  const a = (arrivalsPerHour / 60) * serviceMin;
  if (a === 0) return 1;
  if (c <= a) return 0;
  return 1 - erlangC(c, a) * Math.exp((-(c - a) * targetMin) / serviceMin);
}

/** The fewest counters whose service level reaches `level` (0 without arrivals), and the level they give. */
export function countersNeeded(arrivalsPerHour: number, serviceMin: number, targetMin: number, level: number): { counters: number; level: number } {
  if (arrivalsPerHour <= 0) return { counters: 0, level: 1 };
  const a = (arrivalsPerHour / 60) * serviceMin;
  for (let c = Math.max(1, Math.floor(a) + 1); ; c++) {
    const sl = serviceLevel(c, arrivalsPerHour, serviceMin, targetMin);
    if (sl >= level) return { counters: c, level: sl };
  }
}
