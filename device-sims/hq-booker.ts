import type { Booking } from './hq.js';
import { hash, Random } from './random.js';

/** An HQ booking day: appointments spread over a scenario day's open hours. */
export interface DayPlan {
  seed: number;
  /** YYYY-MM-DD; times are local, as the day simulator's clock start is (device-sims/day/run.ts). */
  date: string;
  open: string;
  close: string;
  /** Service ids, or weights by service id (a scenario's `mix`). */
  services: readonly string[] | Record<string, number>;
  count: number;
  /** HH:MM: book nothing before it, e.g. the simulated time now plus a lead (default: `open`). */
  from?: string;
  /** The last appointment starts at least this long before `close` (default 30). */
  closingMarginMin?: number;
  /** Share of appointments for the `vip` segment (default 0). */
  vipShare?: number;
}

const minuteOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));
const pad = (n: number) => String(n).padStart(2, '0');
/** Wall-clock time of the day, not midnight plus minutes: the same on a day the clocks change. */
const localIso = (date: string, minute: number) => new Date(`${date}T${pad(Math.floor(minute / 60))}:${pad(minute % 60)}:00`).toISOString();

/**
 * `count` appointments, one at a random minute in each of `count` equal slots of the bookable window:
 * spread over the day, yet the same seed books the same day. requestIds derive from seed and index.
 */
export function planAppointments(plan: DayPlan): Booking[] {
  const r = new Random(plan.seed ^ hash('hq-appointments'));
  const weights = Array.isArray(plan.services) ? plan.services.map((s) => [s, 1] as const) : Object.entries(plan.services).filter(([, w]) => w > 0);
  if (weights.length === 0) throw new Error('planAppointments: no service to book');
  const total = weights.reduce((sum, [, w]) => sum + w, 0);
  const start = Math.max(minuteOf(plan.open), minuteOf(plan.from ?? plan.open));
  const end = minuteOf(plan.close) - (plan.closingMarginMin ?? 30);
  if (plan.count > 0 && end <= start) throw new Error(`planAppointments: no time left to book between ${plan.from ?? plan.open} and ${plan.close}`);
  const slot = (end - start) / Math.max(plan.count, 1);
  return Array.from({ length: plan.count }, (_, i) => {
    const minute = Math.floor(start + slot * i + r.next() * slot);
    let pick = r.next() * total;
    const service = weights.find(([, w]) => (pick -= w) < 0)?.[0] ?? weights[weights.length - 1][0];
    const vip = r.chance(plan.vipShare ?? 0);
    const ref = `APT-${plan.date.replaceAll('-', '')}-${String(i + 1).padStart(3, '0')}`;
    return { requestId: `hq-${plan.seed}-${i + 1}`, ref, service, at: localIso(plan.date, minute), ...(vip ? { segment: 'vip' } : {}) };
  });
}
