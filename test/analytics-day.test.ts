import { loadConfig } from '../src/config/load-config.js';
import type { AnalyticsReport, Spread } from '../src/contracts/analytics.js';
import { analyticsTruth, type AnalyticsTruth } from '../device-sims/day/analytics-truth.js';
import type { DayRecord } from '../device-sims/day/records.js';
import { runDay, type HubReader } from '../device-sims/day/run.js';
import { loadScenario } from '../device-sims/day/scenario.js';

const HOUR = 3600_000;

/**
 * Tolerances, hub against truth:
 * - counts (footfall per hour, visits, transitions, waits, tickets issued and abandoned) exact: the hub counts
 *   each event at its own `ts`, which the simulator stamps from the clock it records the truth on, and every
 *   span asked for is whole hours, the hub's buckets. A track's events come from the camera of each zone, whose
 *   messages may reach the hub out of order across cameras: their `ts` says the order;
 * - percentiles within 6 % or 2 s: the hub keeps durations in log bins 10 % wide and reads a bin as its
 *   geometric middle (±4.9 %), to 0.1 s; under a second it reads 0.5 s;
 * - tasks: a device's ack can cross a hub timeout and be refused (the hub's `hub_mqtt_rejected_total`, `R`),
 *   so each device-side figure may differ by R; otherwise the hub created at least the tasks the devices started,
 *   completed exactly the ones they completed, and failed at least the ones they failed (it also fails tasks no
 *   device would take).
 */
const PCT = 0.06;
const SEC = 2;

/** What differs between hub and truth, one line each: empty when they agree within the tolerances. */
type Diffs = string[];

/**
 * The peak morning of the peak day (10:00–11:30 at 60×, customers still inside served for 29 more minutes)
 * against the built hub in a process of its own, then its analytics for each hour played and for all of them,
 * against what the simulator knows it did. Customers are less patient than the scenario's (8–30 min, not
 * 25–50), so that some give up within the morning and `abandoned` is checked on more than zeros.
 */
describe('analytics of a simulated peak morning, against what the simulator did', () => {
  const scenario = { ...loadScenario('peak-day'), patienceMin: [8, 30] as [number, number] };
  const branch = scenario.branch ?? loadConfig({ HUB_CONFIG: scenario.configPath }).branches[0].id;
  const reports: { from: number; to: number; hub: AnalyticsReport; truth: AnalyticsTruth }[] = [];
  let day: DayRecord;
  let refused = 0;

  beforeAll(async () => {
    day = await runDay({
      scenario,
      coordinated: true,
      scale: 60,
      from: '10:00',
      to: '11:30',
      drainMs: 29 * 60_000,
      afterDay: async (hub, played) => {
        const first = Math.floor(played.start / HOUR) * HOUR;
        const last = Math.ceil(played.end / HOUR) * HOUR;
        // All the played hours first, then (if more than one) each on its own: each figure must land in its hour.
        const hours = Array.from({ length: (last - first) / HOUR }, (_, i) => ({ from: first + i * HOUR, to: first + (i + 1) * HOUR }));
        const spans = [{ from: first, to: last }, ...(hours.length > 1 ? hours : [])];
        await settled(hub, branch, first, last);
        for (const s of spans) reports.push({ ...s, hub: await analytics(hub, branch, s.from, s.to), truth: analyticsTruth(played, s.from, s.to) });
        refused = await refusals(hub.httpUrl);
      },
    });
    for (const r of reports) console.log(`${iso(r.from)}–${iso(r.to)}\n${summary(r.hub, r.truth)}`);
    console.log(`${day.customers.length} customers, ${day.visits.length} visits, ${day.moves.length} moves; acks refused: ${refused}`);
  }, 240_000);

  it('played a day with something to count', () => {
    const all = reports[0].truth;
    expect(day.customers.length).toBeGreaterThan(60);
    expect(Object.keys(all.dwell).sort()).toEqual(['counters', 'entrance', 'self-service', 'waiting']);
    expect(Object.values(all.waits).reduce((n, w) => n + w.count, 0)).toBeGreaterThan(20);
    expect(Object.values(all.waits).reduce((n, w) => n + w.abandoned, 0)).toBeGreaterThan(0);
    expect(all.transitions.some((t) => t.to === 'outside')).toBe(true);
  });

  it('counts footfall in and out per hour exactly', () => {
    for (const { from, to, hub, truth } of reports) {
      const seen = new Map(hub.footfall.byHour.map((h) => [Date.parse(h.hour), h]));
      const diffs: Diffs = truth.footfall.byHour.flatMap((t) => {
        const h = seen.get(Date.parse(t.hour)) ?? { in: 0, out: 0 };
        return h.in === t.in && h.out === t.out ? [] : [`${t.hour}: hub in/out ${h.in}/${h.out}, truth ${t.in}/${t.out}`];
      });
      expect({ span: `${iso(from)}–${iso(to)}`, diffs }).toEqual({ span: `${iso(from)}–${iso(to)}`, diffs: [] });
    }
  });

  it('counts every visit per zone, its dwell percentiles within 6 % or 2 s', () => {
    for (const { from, to, hub, truth } of reports) {
      const zones = union(Object.keys(hub.dwell), Object.keys(truth.dwell));
      const diffs = zones.flatMap((z) => spreadDiffs(`dwell ${z}`, hub.dwell[z], truth.dwell[z]));
      expect({ span: `${iso(from)}–${iso(to)}`, diffs }).toEqual({ span: `${iso(from)}–${iso(to)}`, diffs: [] });
    }
  });

  it('counts every transition between zones exactly', () => {
    for (const { from, to, hub, truth } of reports) {
      const key = (t: { from: string; to: string }) => `${t.from} → ${t.to}`;
      const [h, t] = [new Map(hub.transitions.map((x) => [key(x), x.count])), new Map(truth.transitions.map((x) => [key(x), x.count]))];
      const diffs = union([...h.keys()], [...t.keys()]).flatMap((k) => ((h.get(k) ?? 0) === (t.get(k) ?? 0) ? [] : [`${k}: hub ${h.get(k) ?? 0}, truth ${t.get(k) ?? 0}`]));
      expect({ span: `${iso(from)}–${iso(to)}`, diffs }).toEqual({ span: `${iso(from)}–${iso(to)}`, diffs: [] });
    }
  });

  it('counts waits, tickets issued and abandoned per service exactly, wait percentiles within 6 % or 2 s', () => {
    for (const { from, to, hub, truth } of reports) {
      const diffs = union(Object.keys(hub.waits), Object.keys(truth.waits)).flatMap((s) => {
        const [h, t] = [hub.waits[s], truth.waits[s]];
        const counts = (['issued', 'abandoned'] as const).flatMap((f) => ((h?.[f] ?? 0) === (t?.[f] ?? 0) ? [] : [`${s} ${f}: hub ${h?.[f] ?? 0}, truth ${t?.[f] ?? 0}`]));
        return [...counts, ...spreadDiffs(`wait ${s}`, h, t)];
      });
      expect({ span: `${iso(from)}–${iso(to)}`, diffs }).toEqual({ span: `${iso(from)}–${iso(to)}`, diffs: [] });
    }
  });

  it('counts the tasks the devices did, per type, up to the acks it refused', () => {
    const { hub, truth } = reports[0];
    const diffs = Object.entries(truth.tasks).flatMap(([type, d]) => {
      const h = hub.tasks[type] ?? { count: 0, completed: 0, failed: 0 };
      const ok = h.count >= d.started - refused && h.completed <= d.completed && h.completed >= d.completed - refused && h.failed >= d.failed - refused;
      return ok ? [] : [`${type}: hub created/completed/failed ${h.count}/${h.completed}/${h.failed}, devices started/completed/failed ${d.started}/${d.completed}/${d.failed}, ${refused} refused`];
    });
    expect(diffs).toEqual([]);
    expect(truth.tasks.greet?.completed).toBeGreaterThan(0);
  });

  it('never shows a track id', () => {
    const ids = Object.values(day.tracks);
    expect(ids.length).toBeGreaterThan(60);
    const json = JSON.stringify(reports.map((r) => r.hub));
    expect(ids.filter((id) => json.includes(id))).toEqual([]);
  });
});

function spreadDiffs(what: string, hub: Spread | undefined, truth: Spread | undefined): Diffs {
  const [h, t] = [hub ?? { count: 0, p50Sec: null, p90Sec: null }, truth ?? { count: 0, p50Sec: null, p90Sec: null }];
  if (h.count !== t.count) return [`${what} count: hub ${h.count}, truth ${t.count}`];
  return (['p50Sec', 'p90Sec'] as const).flatMap((p) => {
    const [x, y] = [h[p], t[p]];
    const ok = y === null ? x === null : x !== null && Math.abs(x - y) <= Math.max(PCT * y, SEC);
    return ok ? [] : [`${what} ${p}: hub ${x}, truth ${y}`];
  });
}

/** Waits until the hub has handled all the devices sent: two reads a moment apart agree (density aside, which grows with the clock). */
async function settled(hub: HubReader, branch: string, from: number, to: number): Promise<void> {
  const counts = async () => {
    const { footfall, dwell, transitions, waits, tasks } = await analytics(hub, branch, from, to);
    return JSON.stringify({ footfall, dwell, transitions, waits, tasks });
  };
  let before = await counts();
  for (let i = 0; i < 20; i++) {
    // Real ms: the hub's own pace, whatever its clock.
    await new Promise((r) => setTimeout(r, 250));
    const now = await counts();
    if (now === before) return;
    before = now;
  }
  throw new Error('the hub\'s analytics kept changing after the devices disconnected');
}

function analytics(hub: HubReader, branch: string, from: number, to: number): Promise<AnalyticsReport> {
  return hub.get<AnalyticsReport>(`/api/branches/${branch}/analytics?from=${iso(from)}&to=${iso(to)}`);
}

/** Device messages the hub refused (all reasons), from its metrics. */
async function refusals(httpUrl: string): Promise<number> {
  const text = await fetch(`${httpUrl}/metrics`).then((r) => r.text());
  return [...text.matchAll(/^hub_mqtt_rejected_total\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

/** Hub against truth, one line per figure, for the log. */
function summary(hub: AnalyticsReport, truth: AnalyticsTruth): string {
  const pair = (h: Spread | undefined, t: Spread) => `n ${h?.count ?? 0}/${t.count}  p50 ${h?.p50Sec ?? '–'}/${fmt(t.p50Sec)}  p90 ${h?.p90Sec ?? '–'}/${fmt(t.p90Sec)}`;
  return [
    `  footfall in/out (hub | truth): ${hub.footfall.byHour.map((h) => `${h.in}/${h.out}`).join(' ')} | ${truth.footfall.byHour.map((h) => `${h.in}/${h.out}`).join(' ')}`,
    ...Object.entries(truth.dwell).map(([z, t]) => `  dwell ${z} (hub/truth): ${pair(hub.dwell[z], t)}`),
    `  transitions (hub/truth): ${truth.transitions.map((t) => `${t.from}→${t.to} ${hub.transitions.find((h) => h.from === t.from && h.to === t.to)?.count ?? 0}/${t.count}`).join(', ')}`,
    ...Object.entries(truth.waits).map(([s, t]) => `  wait ${s} (hub/truth): ${pair(hub.waits[s], t)}  issued ${hub.waits[s]?.issued ?? 0}/${t.issued}  abandoned ${hub.waits[s]?.abandoned ?? 0}/${t.abandoned}`),
    ...Object.entries(truth.tasks).map(([k, d]) => `  task ${k}: hub created/completed/failed ${hub.tasks[k]?.count ?? 0}/${hub.tasks[k]?.completed ?? 0}/${hub.tasks[k]?.failed ?? 0}, devices started/completed/failed ${d.started}/${d.completed}/${d.failed}`),
  ].join('\n');
}

const union = (a: string[], b: string[]) => [...new Set([...a, ...b])].sort();
const iso = (ms: number) => new Date(ms).toISOString();
const fmt = (x: number | null) => (x === null ? '–' : String(Math.round(x * 10) / 10));
