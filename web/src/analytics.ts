import type { AnalyticsReport } from '../../src/contracts/analytics.js';
import { Unauthorized } from './api.js';

/**
 * The analytics view's REST side: one day of the branch, as the tablet's own calendar cuts it (midnight
 * to midnight in its time zone), from `GET /api/branches/{b}/analytics` and its CSV twin.
 */
export type { AnalyticsReport };

/** What the top bar switches between. */
export type View = 'live' | 'analytics';

/** A refusal of the hub, worded by it (`{message}` of a 4xx/5xx). */
class HubError extends Error {}

export type Range = { from: string; to: string };

const pad = (n: number) => String(n).padStart(2, '0');

/** Today on the tablet's calendar, as `<input type="date">` holds it (YYYY-MM-DD). */
export function today(): string {
  const d = new Date();
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/**
 * The day's local midnight to the next one, as ISO. Through the calendar (not + 24 h): a day with a
 * daylight-saving change has 23 or 25 hours. `setFullYear`, because `new Date(y, …)` reads years below
 * 100 as 19xx. Null for what is not a date at all; a date the hub cannot take (year 10000) goes to it,
 * and its refusal is shown.
 */
export function dayRange(day: string): Range | null {
  const m = /^(\d{4,})-(\d\d)-(\d\d)$/.exec(day);
  if (!m) return null;
  const start = new Date(0);
  start.setFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  start.setHours(0, 0, 0, 0);
  const end = new Date(start);
  end.setDate(end.getDate() + 1);
  if (Number.isNaN(end.getTime())) return null;
  return { from: start.toISOString(), to: end.toISOString() };
}

async function get(token: string, branchId: string, file: 'analytics' | 'analytics.csv', range: Range): Promise<Response> {
  const query = new URLSearchParams(range).toString();
  const res = await fetch(`api/branches/${encodeURIComponent(branchId)}/${file}?${query}`, { headers: { authorization: `Bearer ${token}` } });
  if (res.status === 401) throw new Unauthorized();
  if (!res.ok) throw new HubError(await reason(res));
  return res;
}

/** The hub's own words for a refusal (Nest: `message`, a string or a list), else the status. */
async function reason(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { message?: string | string[] };
    if (body.message) return Array.isArray(body.message) ? body.message.join('; ') : body.message;
  } catch {
    /* not JSON: the status says it */
  }
  return `HTTP ${res.status}`;
}

export async function fetchReport(token: string, branchId: string, range: Range): Promise<AnalyticsReport> {
  return (await (await get(token, branchId, 'analytics', range)).json()) as AnalyticsReport;
}

/**
 * Saves the day's CSV. A plain link cannot send the Bearer header, so: fetch, a Blob URL, and a click on
 * an `<a download>` that is never attached to the page. The name carries the tablet's day (the hub names
 * the file by its UTC date).
 */
export async function downloadCsv(token: string, branchId: string, day: string, range: Range): Promise<void> {
  const blob = await (await get(token, branchId, 'analytics.csv', range)).blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = `${branchId}-analytics-${day}.csv`;
  a.click();
  // The browser reads the Blob after the click returns, not during it: let go of it a good while later.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** Nothing happened that day: the density buckets are there (all zero), everything else is empty. */
export function isEmpty(r: AnalyticsReport): boolean {
  const none = (o: object) => Object.keys(o).length === 0;
  return (
    r.footfall.byHour.every((h) => !h.in && !h.out) &&
    none(r.dwell) &&
    !r.transitions.length &&
    none(r.waits) &&
    none(r.tasks) &&
    Object.values(r.staffing.byService).every((hours) => !hours.length) &&
    Object.values(r.density).every((buckets) => buckets.every((b) => !b.max && !b.avg))
  );
}

/** The zones (or services) a report names, in the branch's own order (its config's), any it does not know last. */
export function inBranchOrder(configured: string[], named: Iterable<string>): string[] {
  const rank = (id: string) => (configured.includes(id) ? configured.indexOf(id) : configured.length);
  return [...new Set(named)].sort((a, b) => rank(a) - rank(b));
}
