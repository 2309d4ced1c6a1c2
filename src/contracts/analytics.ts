import { z } from 'zod';

/**
 * `GET /api/branches/{b}/analytics` (contract section 6) and its extensions. Times are ISO on the hub's
 * clock; no field ever holds a track id (privacy, docs/analytics.md).
 */
export const analyticsQuery = z
  .object({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
  })
  .refine((q) => (q.from === undefined) === (q.to === undefined), { message: 'give both from and to, or neither (today)', path: ['to'] })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to), { message: 'must be after from', path: ['to'] })
  .refine((q) => !q.from || !q.to || Date.parse(q.to) - Date.parse(q.from) <= 31 * 86_400_000, { message: 'at most 31 days after from', path: ['to'] });

/** Percentiles in seconds; null when there is nothing to rank. */
export interface Spread {
  count: number;
  p50Sec: number | null;
  p90Sec: number | null;
}

/** Extension: how many visits (or waits) fell in each band, for the distribution chart. `upToSec` null = above the last band. */
export type Bands = { upToSec: number | null; count: number }[];

export interface DensityBucket {
  /** The 5-minute bucket's start. */
  at: string;
  /** Time-weighted people in the zone over the part of the bucket the hub knew its count; null when it knew nothing (no reading yet, or more than 12 h since the last). */
  avg: number | null;
  max: number | null;
  capacity: number | null;
}

/** One service in one hour, with Erlang C's advice (docs/analytics.md). */
export interface StaffingHour {
  hour: string;
  /** Tickets issued that needed a counter (not served at a kiosk without being called). */
  arrivals: number;
  /** Minutes at a counter per customer: observed in that hour, else over the range, else the configured average. */
  serviceMin: number;
  /** Time-weighted counters open, as the queue system said; null if it never said. */
  openCounters: number | null;
  /** The fewest counters that keep 80 % of waits under `targetWaitMin`; 0 with no arrivals. */
  neededCounters: number;
  /** The share of waits under the target that `neededCounters` gives (for the chart's tooltip). */
  serviceLevel: number;
}

export interface AnalyticsReport {
  branchId: string;
  from: string;
  to: string;
  /** When the hub computed it; the current hour and bucket are counted up to here. */
  at: string;
  footfall: { byHour: { hour: string; in: number; out: number }[] };
  dwell: Record<string, Spread & { bands: Bands }>;
  transitions: { from: string; to: string; count: number }[];
  density: Record<string, DensityBucket[]>;
  waits: Record<string, Spread & { issued: number; abandoned: number; bands: Bands }>;
  tasks: Record<string, { count: number; completed: number; failed: number; acceptP50Sec: number | null; acceptP90Sec: number | null }>;
  staffing: { targetWaitMin: number; serviceLevel: number; byService: Record<string, StaffingHour[]> };
}
