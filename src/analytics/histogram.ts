/**
 * Durations as a log-binned histogram, so percentiles are kept incrementally in a few hundred bytes per
 * zone and hour instead of one row per visit. Bin 0 holds everything under a second; bin i ≥ 1 holds
 * [RATIO^(i-1), RATIO^i) seconds and reads as its geometric middle, so a percentile is off by at most
 * half a bin: ±5 % (docs/analytics.md).
 */
export type Histogram = Record<number, number>;

const RATIO = 1.1;
const LOG_RATIO = Math.log(RATIO);

export function binOf(seconds: number): number {
  return seconds < 1 ? 0 : 1 + Math.floor(Math.log(seconds) / LOG_RATIO + 1e-9);
}

/** What a bin reads as, in seconds (0.5 for the sub-second bin). */
export function valueOf(bin: number): number {
  return bin === 0 ? 0.5 : Math.pow(RATIO, bin - 0.5);
}

export function add(h: Histogram, seconds: number): void {
  const b = binOf(Math.max(0, seconds));
  h[b] = (h[b] ?? 0) + 1;
}

/** Takes one value out again (a late event changed what a track contributed). */
export function remove(h: Histogram, seconds: number): void {
  const b = binOf(Math.max(0, seconds));
  if (!h[b]) return;
  if (h[b] === 1) delete h[b];
  else h[b] -= 1;
}

export function merge(into: Histogram, h: Histogram): Histogram {
  for (const [b, n] of Object.entries(h)) into[Number(b)] = (into[Number(b)] ?? 0) + n;
  return into;
}

export function total(h: Histogram): number {
  return Object.values(h).reduce((a, n) => a + n, 0);
}

/** Nearest-rank percentile (q in (0, 1]) in seconds, to 0.1 s; null when empty. */
export function quantile(h: Histogram, q: number): number | null {
  const n = total(h);
  if (n === 0) return null;
  const rank = Math.max(1, Math.ceil(q * n));
  let seen = 0;
  for (const b of Object.keys(h).map(Number).sort((x, y) => x - y)) {
    seen += h[b];
    if (seen >= rank) return Math.round(valueOf(b) * 10) / 10;
  }
  return null;
}

/** Counts per band (upper bounds in seconds; null = the rest), each bin by the value it reads as. */
export function bands(h: Histogram, upTo: number[]): { upToSec: number | null; count: number }[] {
  const out = [...upTo.map((u) => ({ upToSec: u as number | null, count: 0 })), { upToSec: null, count: 0 }];
  for (const [b, n] of Object.entries(h)) {
    const v = valueOf(Number(b));
    out[upTo.findIndex((u) => v < u) === -1 ? upTo.length : upTo.findIndex((u) => v < u)].count += n;
  }
  return out;
}
