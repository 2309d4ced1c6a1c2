import type { BranchConfig } from '../config/config.schema.js';
import type { AnalyticsReport, DensityBucket, Spread, StaffingHour } from '../contracts/analytics.js';
import type { FootfallHour } from '../contracts/views.js';
import type { Bucket, Level } from './analytics.repository.js';
import { DENSITY_MS, HOUR_MS, hold, spans, startOf } from './branch-analytics.js';
import { countersNeeded } from './erlang.js';
import { bands, merge, quantile, type Histogram } from './histogram.js';

/** The staffing advice's share of customers whose wait stays under `targetWaitMin` (issue 10). */
export const SERVICE_LEVEL = 0.8;
/** Display bands for dwell and waits, seconds: 1, 5, 10, 15, 20, 30, 60 minutes. */
const BANDS = [60, 300, 600, 900, 1200, 1800, 3600];
/** Observed services an hour needs before its own mean service time is trusted. */
const MIN_SERVICES = 3;
/** The hour under way is advised on once this much of it has passed (arrivals scaled to a full hour). */
const MIN_PARTIAL_MS = 10 * 60_000;

export interface ReportInput {
  branch: BranchConfig;
  from: number;
  to: number;
  /** The hub's clock: the live part of each level is counted up to here. */
  now: number;
  footfall: FootfallHour[];
  buckets: Bucket[];
  levels: Level[];
}

const num = (d: Record<string, unknown>, k: string) => (d[k] as number | undefined) ?? 0;
const spread = (h: Histogram, count: number): Spread => ({ count, p50Sec: quantile(h, 0.5), p90Sec: quantile(h, 0.9) });
const sum = (h: Histogram) => Object.values(h).reduce((a, n) => a + n, 0);

/**
 * The analytics of [from, to) from stored aggregates (never raw rows): hourly buckets whose hour starts in
 * the range, 5-minute buckets likewise, plus what each level has held since its last change (not stored yet).
 */
export function buildReport(r: ReportInput): AnalyticsReport {
  const end = Math.min(r.to, r.now);
  const byKind = (kind: Bucket['kind']) => r.buckets.filter((b) => b.kind === kind);
  const hists = (kind: Bucket['kind'], field: string) => {
    const out = new Map<string, Histogram>();
    for (const b of byKind(kind)) merge(out.get(b.key) ?? out.set(b.key, {}).get(b.key)!, (b.data[field] as Histogram) ?? {});
    return out;
  };
  const counts = (kind: Bucket['kind'], field: string) => {
    const out = new Map<string, number>();
    for (const b of byKind(kind)) out.set(b.key, (out.get(b.key) ?? 0) + num(b.data, field));
    return out;
  };

  const dwell = Object.fromEntries([...hists('dwell', 'hist')].map(([zone, h]) => [zone, { ...spread(h, sum(h)), bands: bands(h, BANDS) }]));
  const transitions = [...counts('transition', 'count')]
    .map(([k, count]) => ({ from: k.split('>')[0], to: k.split('>')[1], count }))
    .sort((a, b) => b.count - a.count || a.from.localeCompare(b.from) || a.to.localeCompare(b.to));

  const waitHists = hists('wait', 'hist');
  const [issued, abandoned] = [counts('wait', 'issued'), counts('wait', 'abandoned')];
  const waits = Object.fromEntries(
    r.branch.services
      .filter((s) => waitHists.has(s.id) || issued.has(s.id))
      .map((s) => {
        const h = waitHists.get(s.id) ?? {};
        return [s.id, { ...spread(h, sum(h)), issued: issued.get(s.id) ?? 0, abandoned: abandoned.get(s.id) ?? 0, bands: bands(h, BANDS) }];
      }),
  );

  const accept = hists('task', 'accept');
  const [created, completed, failed] = ['count', 'completed', 'failed'].map((f) => counts('task', f));
  const tasks = Object.fromEntries(
    [...created.keys()].map((type) => {
      const h = accept.get(type) ?? {};
      return [type, { count: created.get(type) ?? 0, completed: completed.get(type) ?? 0, failed: failed.get(type) ?? 0, acceptP50Sec: quantile(h, 0.5), acceptP90Sec: quantile(h, 0.9) }];
    }),
  );

  const levelBuckets = withLive(r, end);
  const density = Object.fromEntries(r.branch.zones.map((z) => [z.id, densityOf(levelBuckets.get(`density|${z.id}`), r.from, end, z.capacity ?? null)]));

  return {
    branchId: r.branch.id,
    from: new Date(r.from).toISOString(),
    to: new Date(r.to).toISOString(),
    at: new Date(r.now).toISOString(),
    footfall: { byHour: r.footfall },
    dwell,
    transitions,
    density,
    waits,
    tasks,
    staffing: { targetWaitMin: r.branch.rules.targetWaitMin, serviceLevel: SERVICE_LEVEL, byService: staffing(r, end, levelBuckets) },
  };
}

/** Level buckets by `kind|key` and start, with each level's open span (since its last change, up to `end`) added. */
function withLive(r: ReportInput, end: number): Map<string, Map<number, Record<string, unknown>>> {
  const out = new Map<string, Map<number, Record<string, unknown>>>();
  const at = (id: string, ms: number) => {
    const m = out.get(id) ?? out.set(id, new Map()).get(id)!;
    return m.get(ms) ?? m.set(ms, {}).get(ms)!;
  };
  for (const b of r.buckets.filter((x) => x.kind === 'density' || x.kind === 'counters')) Object.assign(at(`${b.kind}|${b.key}`, Date.parse(b.at)), b.data);
  for (const l of r.levels) {
    for (const s of spans(Date.parse(l.since), end)) if (s.at >= r.from - DENSITY_MS) hold(at(`${l.kind}|${l.key}`, s.at), l.value, s.sec);
  }
  return out;
}

function densityOf(buckets: Map<number, Record<string, unknown>> | undefined, from: number, end: number, capacity: number | null): DensityBucket[] {
  const out: DensityBucket[] = [];
  for (let b = Math.ceil(from / DENSITY_MS) * DENSITY_MS; b < end; b += DENSITY_MS) {
    const d = buckets?.get(b) ?? {};
    const known = num(d, 'known');
    const avg = known ? Math.round((num(d, 'area') / known) * 100) / 100 : null;
    out.push({ at: new Date(b).toISOString(), avg, max: known ? num(d, 'max') : null, capacity });
  }
  return out;
}

/** Per service and hour: arrivals needing a counter, service time, counters open, and Erlang C's advice. */
function staffing(r: ReportInput, end: number, levels: Map<string, Map<number, Record<string, unknown>>>): Record<string, StaffingHour[]> {
  const waits = r.buckets.filter((b) => b.kind === 'wait');
  return Object.fromEntries(
    r.branch.services.map((s) => {
      const mine = waits.filter((b) => b.key === s.id);
      const services = mine.reduce((a, b) => a + num(b.data, 'services'), 0);
      const rangeMin = services >= MIN_SERVICES ? mine.reduce((a, b) => a + num(b.data, 'serviceSec'), 0) / 60 / services : s.avgServiceMin;
      const counters = levels.get(`counters|${s.id}`);
      const hours: StaffingHour[] = [];
      for (let h = Math.ceil(r.from / HOUR_MS) * HOUR_MS; h < end; h += HOUR_MS) {
        const d = mine.find((b) => b.at === startOf(h, HOUR_MS))?.data ?? {};
        const arrivals = Math.max(0, num(d, 'issued') - num(d, 'uncalled'));
        const open = openCounters(counters, h);
        if (!arrivals && open === null) continue;
        const elapsed = Math.min(HOUR_MS, end - h);
        const perHour = elapsed >= MIN_PARTIAL_MS ? (arrivals * HOUR_MS) / elapsed : arrivals;
        const serviceMin = num(d, 'services') >= MIN_SERVICES ? num(d, 'serviceSec') / 60 / num(d, 'services') : rangeMin;
        const need = countersNeeded(perHour, serviceMin, r.branch.rules.targetWaitMin, SERVICE_LEVEL);
        hours.push({ hour: startOf(h, HOUR_MS), arrivals, serviceMin: Math.round(serviceMin * 10) / 10, openCounters: open, neededCounters: need.counters, serviceLevel: Math.round(need.level * 1000) / 1000 });
      }
      return [s.id, hours];
    }),
  );
}

/** Time-weighted counters open during the hour, over the part of it the hub knew; null if it never knew. */
function openCounters(buckets: Map<number, Record<string, unknown>> | undefined, hour: number): number | null {
  let area = 0;
  let known = 0;
  for (let b = hour; b < hour + HOUR_MS; b += DENSITY_MS) {
    const d = buckets?.get(b);
    if (!d) continue;
    area += num(d, 'area');
    known += num(d, 'known');
  }
  return known ? Math.round((area / known) * 10) / 10 : null;
}
