import type { AnalyticsReport } from '../contracts/analytics.js';
import { DENSITY_MS, HOUR_MS } from './branch-analytics.js';

/**
 * A day's analytics as one tidy table for the bank's own BI: `section,start,end,subject,measure,value`,
 * one measure per row, so a pivot table needs no parsing. Range-wide figures (dwell, waits, tasks,
 * transitions) carry the report's from/to.
 */
export function toCsv(r: AnalyticsReport): string {
  const rows: (string | number | null)[][] = [['section', 'start', 'end', 'subject', 'measure', 'value']];
  const after = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();
  const put = (section: string, start: string, end: string, subject: string, measures: Record<string, number | null>) => {
    for (const [measure, value] of Object.entries(measures)) rows.push([section, start, end, subject, measure, value]);
  };
  for (const h of r.footfall.byHour) put('footfall', h.hour, after(h.hour, HOUR_MS), 'entry', { in: h.in, out: h.out });
  for (const [zone, d] of Object.entries(r.dwell)) put('dwell', r.from, r.to, zone, { count: d.count, p50Sec: d.p50Sec, p90Sec: d.p90Sec });
  for (const t of r.transitions) put('transition', r.from, r.to, `${t.from}>${t.to}`, { count: t.count });
  for (const [zone, buckets] of Object.entries(r.density)) for (const b of buckets) put('density', b.at, after(b.at, DENSITY_MS), zone, { avg: b.avg, max: b.max, capacity: b.capacity });
  for (const [service, w] of Object.entries(r.waits)) put('waits', r.from, r.to, service, { count: w.count, p50Sec: w.p50Sec, p90Sec: w.p90Sec, issued: w.issued, abandoned: w.abandoned });
  for (const [type, t] of Object.entries(r.tasks)) put('tasks', r.from, r.to, type, { count: t.count, completed: t.completed, failed: t.failed, acceptP50Sec: t.acceptP50Sec, acceptP90Sec: t.acceptP90Sec });
  for (const [service, hours] of Object.entries(r.staffing.byService)) {
    for (const h of hours) {
      put('staffing', h.hour, after(h.hour, HOUR_MS), service, { arrivals: h.arrivals, serviceMin: h.serviceMin, openCounters: h.openCounters, neededCounters: h.neededCounters });
    }
  }
  return rows.map((row) => row.map(cell).join(',')).join('\r\n') + '\r\n';
}

/** RFC 4180: quote what holds a comma, quote or line break; empty for null. */
function cell(v: string | number | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
