import { countersNeeded, erlangC, serviceLevel } from './erlang.js';
import { add, bands, binOf, quantile, valueOf, type Histogram } from './histogram.js';
import { stepTrack, TrackBook, type TrackState } from './tracks.js';

describe('log-binned histogram', () => {
  it('reads each duration back within 5 %', () => {
    for (const s of [1, 1.5, 7, 42, 61, 300, 599, 1800, 3600, 5 * 3600]) {
      expect(Math.abs(valueOf(binOf(s)) - s) / s).toBeLessThanOrEqual(0.05);
    }
  });

  it('gives nearest-rank percentiles within 5 % of the exact ones', () => {
    const h: Histogram = {};
    const values = Array.from({ length: 1000 }, (_, i) => 30 + ((i * 7919) % 1000) * 1.7);
    for (const v of values) add(h, v);
    const sorted = [...values].sort((a, b) => a - b);
    for (const q of [0.5, 0.9]) {
      const exact = sorted[Math.ceil(q * sorted.length) - 1];
      expect(Math.abs(quantile(h, q)! - exact) / exact).toBeLessThanOrEqual(0.05);
    }
  });

  it('is empty without values and counts sub-second ones', () => {
    expect(quantile({}, 0.5)).toBeNull();
    const h: Histogram = {};
    add(h, 0.2);
    add(h, 0);
    expect(quantile(h, 0.9)).toBe(0.5);
  });

  it('sorts bins into display bands', () => {
    const h: Histogram = {};
    for (const s of [10, 50, 70, 200, 4000]) add(h, s);
    expect(bands(h, [60, 300])).toEqual([
      { upToSec: 60, count: 2 },
      { upToSec: 300, count: 2 },
      { upToSec: null, count: 1 },
    ]);
  });
});

describe('Erlang C', () => {
  it('matches the textbook example and the closed formula', () => {
    // 10 Erlangs on 11 agents: P(wait) = 0.682, the usual worked example.
    expect(erlangC(11, 10)).toBeCloseTo(0.6821, 4);
    // The closed form (sum of A^k/k!), which the recursion avoids for its overflow at large loads.
    const closed = (n: number, a: number) => {
      let term = 1;
      let below = 0;
      for (let k = 0; k < n; k++) {
        below += term;
        term *= a / (k + 1);
      }
      const waiting = (term * n) / (n - a);
      return waiting / (below + waiting);
    };
    for (const [n, a] of [[4, 3], [26, 24], [60, 55.5]]) expect(erlangC(n, a)).toBeCloseTo(closed(n, a), 9);
  });

  it('needs more counters for more arrivals, longer services or a shorter target', () => {
    const base = countersNeeded(30, 6, 10, 0.8).counters;
    expect(countersNeeded(60, 6, 10, 0.8).counters).toBeGreaterThan(base);
    expect(countersNeeded(30, 12, 10, 0.8).counters).toBeGreaterThan(base);
    expect(countersNeeded(30, 6, 1, 0.8).counters).toBeGreaterThanOrEqual(base);
  });

  it('keeps a stable line (counters above the load) and reaches the level it says', () => {
    // 30 customers/h × 6 min = 3 Erlangs: 3 counters never catch up, 4 do.
    expect(serviceLevel(3, 30, 6, 10)).toBe(0);
    const need = countersNeeded(30, 6, 10, 0.8);
    expect(need.counters).toBe(4);
    expect(need.level).toBeGreaterThanOrEqual(0.8);
    expect(serviceLevel(need.counters - 1, 30, 6, 10)).toBeLessThan(0.8);
    expect(countersNeeded(0, 6, 10, 0.8)).toEqual({ counters: 0, level: 1 });
  });
});

describe('a track through the branch', () => {
  const walk = (events: [string, 'enter' | 'exit', number][]) => {
    let s: TrackState | undefined;
    const seen: { dwell?: [string, number]; move?: string }[] = [];
    for (const [zone, event, at] of events) {
      const step = stepTrack(s, zone, event, at);
      s = step.state ?? undefined;
      if (step.dwell || step.move) seen.push({ ...(step.dwell ? { dwell: [step.dwell.zone, step.dwell.ms] } : {}), ...(step.move ? { move: `${step.move.from}>${step.move.to}` } : {}) });
    }
    return { seen, state: s };
  };

  it('makes dwell from enter→exit and transitions from consecutive zones, ending outside', () => {
    const { seen, state } = walk([
      ['entrance', 'enter', 0],
      ['entrance', 'exit', 20],
      ['waiting', 'enter', 21],
      ['waiting', 'exit', 300],
      ['counters', 'enter', 301],
      ['counters', 'exit', 900],
      ['outside', 'enter', 901],
    ]);
    expect(seen).toEqual([{ dwell: ['entrance', 20] }, { move: 'entrance>waiting' }, { dwell: ['waiting', 279] }, { move: 'waiting>counters' }, { dwell: ['counters', 599] }, { move: 'counters>outside' }]);
    expect(state).toBeUndefined();
  });

  it('closes a zone the camera missed leaving, and ignores a stray exit or a repeated enter', () => {
    const { seen } = walk([
      ['waiting', 'enter', 0],
      ['waiting', 'enter', 5],
      ['counters', 'exit', 6],
      ['counters', 'enter', 100],
      ['outside', 'enter', 160],
    ]);
    expect(seen).toEqual([{ dwell: ['waiting', 100], move: 'waiting>counters' }, { dwell: ['counters', 60], move: 'counters>outside' }]);
  });
});

describe('tracks reported by several cameras, late', () => {
  const walk: [string, 'enter' | 'exit', number][] = [
    ['entrance', 'enter', 0],
    ['entrance', 'exit', 30_000],
    ['waiting', 'enter', 30_000],
    ['waiting', 'exit', 400_000],
    ['counters', 'enter', 400_000],
    ['counters', 'exit', 900_000],
    ['outside', 'enter', 900_000],
  ];
  /** Everything a track ends up contributing, after all its events, as a sorted list. */
  const total = (order: number[]) => {
    const book = new TrackBook();
    const net = new Map<string, number>();
    for (const i of order) {
      const [zone, event, at] = walk[i];
      const { added, removed } = book.add('t', { zone, event, at });
      for (const c of added) net.set(JSON.stringify(c), (net.get(JSON.stringify(c)) ?? 0) + 1);
      for (const c of removed) net.set(JSON.stringify(c), (net.get(JSON.stringify(c)) ?? 0) - 1);
    }
    return [...net].filter(([, n]) => n !== 0).sort();
  };

  it('counts a track the same whatever order its events arrive in', () => {
    const inOrder = total([0, 1, 2, 3, 4, 5, 6]);
    expect(inOrder).toHaveLength(6);
    expect(inOrder.every(([, n]) => n === 1)).toBe(true);
    // The busy entrance camera's events come after the waiting camera's; the exit of counters after leaving.
    expect(total([2, 0, 1, 3, 4, 6, 5])).toEqual(inOrder);
    expect(total([6, 5, 4, 3, 2, 1, 0])).toEqual(inOrder);
  });

  it('gives back what an early guess counted when the missing event arrives', () => {
    const book = new TrackBook();
    book.add('t', { zone: 'waiting', event: 'enter', at: 30_000 });
    const late = book.add('t', { zone: 'entrance', event: 'enter', at: 0 });
    expect(late.removed).toEqual([]);
    expect(late.added).toEqual([
      { kind: 'dwell', zone: 'entrance', at: 30_000, ms: 30_000 },
      { kind: 'transition', from: 'entrance', to: 'waiting', at: 30_000 },
    ]);
    book.add('t', { zone: 'outside', event: 'enter', at: 60_000 });
    // The entrance's exit, arriving last, corrects the visit: it ended at 29 s, not when the track was seen in waiting.
    expect(book.add('t', { zone: 'entrance', event: 'exit', at: 29_000 })).toEqual({
      added: [{ kind: 'dwell', zone: 'entrance', at: 29_000, ms: 29_000 }],
      removed: [{ kind: 'dwell', zone: 'entrance', at: 30_000, ms: 30_000 }],
    });
  });
});
