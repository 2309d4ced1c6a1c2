import type { AnalyticsReport, Spread } from '../../src/contracts/analytics.js';
import { quantile } from './outcomes.js';
import type { DayRecord } from './records.js';

const HOUR = 3600_000;

/** What the hub's analytics of a span should say, from what the simulator did: the parts of `AnalyticsReport` it knows the truth of. */
export interface AnalyticsTruth {
  footfall: AnalyticsReport['footfall'];
  dwell: Record<string, Spread>;
  transitions: AnalyticsReport['transitions'];
  waits: Record<string, Spread & { issued: number; abandoned: number }>;
  /**
   * What the devices did, by task type, over the whole record: tasks they started, and the `completed` and
   * `failed` acks they delivered. Not cut to the span: a device never learns when the hub created a task.
   */
  tasks: Record<string, { started: number; completed: number; failed: number }>;
}

/**
 * The figures of [from, to) (epoch ms on the hub's clock), each event counted when the hub's analytics
 * count it: footfall at the door event; a visit's dwell (exit − enter) when it ended; a transition (the
 * zone a person was in → the one they entered, or "outside") when they moved; a wait (issued → called, for
 * tickets called to a counter) at the call; `issued` at the issue; `abandoned` when given up. A kiosk-served
 * ticket that was never called is no wait. Footfall is by UTC hour, every hour of the span listed.
 * Percentiles are nearest-rank on the sorted values (`quantile`), in seconds.
 */
export function analyticsTruth(day: DayRecord, from: number, to: number): AnalyticsTruth {
  const inSpan = (t: number | undefined): t is number => t !== undefined && t >= from && t < to;

  const byHour: AnalyticsTruth['footfall']['byHour'] = [];
  for (let h = Math.floor(from / HOUR) * HOUR; h < to; h += HOUR) {
    const moves = day.moves.filter((m) => inSpan(m.at) && m.at >= h && m.at < h + HOUR);
    byHour.push({ hour: new Date(h).toISOString(), in: moves.filter((m) => m.from === undefined).length, out: moves.filter((m) => m.to === 'outside').length });
  }

  const stays = new Map<string, number[]>();
  for (const v of day.visits) if (inSpan(v.leftAt)) push(stays, v.zone, (v.leftAt - v.enteredAt) / 1000);

  const steps = new Map<string, { from: string; to: string; count: number }>();
  for (const m of day.moves) {
    if (m.from === undefined || !inSpan(m.at)) continue;
    const key = `${m.from}\n${m.to}`;
    let step = steps.get(key);
    if (!step) steps.set(key, (step = { from: m.from, to: m.to, count: 0 }));
    step.count += 1;
  }

  const waited = new Map<string, number[]>();
  const issued = new Map<string, number>();
  const abandoned = new Map<string, number>();
  for (const c of day.customers) {
    if (c.ticket === undefined || c.service === undefined) continue;
    if (inSpan(c.queuedAt)) issued.set(c.service, (issued.get(c.service) ?? 0) + 1);
    if (inSpan(c.abandonedAt)) abandoned.set(c.service, (abandoned.get(c.service) ?? 0) + 1);
    if (c.servedBy === 'counter' && inSpan(c.serviceAt)) push(waited, c.service, (c.serviceAt - c.queuedAt!) / 1000);
  }
  const services = [...new Set([...waited.keys(), ...issued.keys(), ...abandoned.keys()])].sort();

  const types = [...new Set([...Object.keys(day.tasksStarted), ...Object.keys(day.tasksEnded)])].sort();
  return {
    footfall: { byHour },
    dwell: Object.fromEntries([...stays].sort(([a], [b]) => a.localeCompare(b)).map(([zone, secs]) => [zone, spread(secs)])),
    transitions: [...steps.values()].sort((a, b) => b.count - a.count || a.from.localeCompare(b.from) || a.to.localeCompare(b.to)),
    waits: Object.fromEntries(services.map((s) => [s, { ...spread(waited.get(s) ?? []), issued: issued.get(s) ?? 0, abandoned: abandoned.get(s) ?? 0 }])),
    tasks: Object.fromEntries(types.map((t) => [t, { started: day.tasksStarted[t] ?? 0, ...(day.tasksEnded[t] ?? { completed: 0, failed: 0 }) }])),
  };
}

function spread(secs: number[]): Spread {
  return { count: secs.length, p50Sec: secs.length ? quantile(secs, 0.5) : null, p90Sec: secs.length ? quantile(secs, 0.9) : null };
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
