import { isoAt } from '../clock/clock.js';
import { entryZones, serviceZone, type BranchConfig } from '../config/config.schema.js';
import type { BranchSummary, FootfallHour, PostView, QueueView } from '../contracts/views.js';
import type { HubEventMap } from '../hub-events.js';
import type { QueueChange, StoredQueues } from './queue.repository.js';
import { ServiceQueue } from './service-queue.js';
import { ServiceTimes } from './wait-estimate.js';

const HOUR_MS = 3600_000;
/** Footfall hours kept in memory (and loaded at start-up): today and yesterday, whatever the time zone. */
export const FOOTFALL_HOURS = 48;

/**
 * The live branch model, built from signals: per service its queue (service-queue.ts); per zone the people
 * in it — set by each `occupancy` reading, moved by footfall in and out in between, never negative; per
 * staff post whether it is attended and since when; footfall at the entry zones per hour. Changed only by
 * its branch's owner; what must survive a restart is returned to be stored.
 */
export class BranchModel {
  readonly services = new Map<string, ServiceQueue>();
  private readonly zones = new Map<string, number>();
  private readonly posts = new Map<string, PostView>();
  private readonly footfallHours = new Map<string, FootfallHour>();
  private readonly entry: string[];

  constructor(private readonly branch: BranchConfig) {
    for (const s of branch.services) this.services.set(s.id, new ServiceQueue(branch.id, s.id, s.avgServiceMin, serviceZone(s)));
    this.entry = entryZones(branch);
  }

  restore(queues: StoredQueues, posts: Map<string, PostView>, footfall: FootfallHour[], occupancy: Record<string, number>): void {
    for (const [zone, n] of Object.entries(occupancy)) this.zones.set(zone, n);
    for (const t of queues.tickets) {
      const q = this.services.get(t.service);
      if (!q) continue;
      if (t.state === 'called') q.called.set(t.ticket, t.calledAt ?? t.issuedAt);
      else q.waiting.push({ ticket: t.ticket, issuedAt: t.issuedAt, ...(t.appointment ? { appointment: t.appointment } : {}) });
    }
    for (const c of queues.counters) {
      const q = this.services.get(c.service);
      if (q) q.openCounters = c.openCounters;
    }
    for (const [service, samples] of queues.samples) {
      const q = this.services.get(service);
      if (q) q.times = new ServiceTimes(q.avgServiceMin, samples);
    }
    for (const [post, p] of posts) this.posts.set(post, p);
    for (const h of footfall) this.footfallHours.set(h.hour, h);
  }

  /** A queue event; returns what to store. */
  queue(e: HubEventMap['queue']): QueueChange | null {
    const q = this.services.get(e.service);
    if (!q) return null;
    return e.event === 'counters' ? q.counters(e.open) : q.ticket(e);
  }

  /** Footfall moves the zone's count; at an entry zone it is also counted for its hour (returned, to store). */
  footfall(e: HubEventMap['footfall']): FootfallHour | null {
    const delta = e.direction === 'in' ? e.count : -e.count;
    this.zones.set(e.zone, Math.max(0, (this.zones.get(e.zone) ?? 0) + delta));
    if (!this.entry.includes(e.zone)) return null;
    const hour = isoAt(Math.floor(e.at.getTime() / HOUR_MS) * HOUR_MS);
    const h = this.footfallHours.get(hour) ?? { hour, in: 0, out: 0 };
    if (e.direction === 'in') h.in += e.count;
    else h.out += e.count;
    this.footfallHours.set(hour, h);
    for (const old of [...this.footfallHours.keys()].sort().slice(0, -FOOTFALL_HOURS)) this.footfallHours.delete(old);
    return { ...h };
  }

  /** A camera's count corrects whatever footfall made of the zone. */
  occupancy(zone: string, count: number): void {
    this.zones.set(zone, count);
  }

  /** A post's sensor; returns the post's state when it changed (to store). */
  post(e: HubEventMap['post']): PostView | null {
    const before = this.posts.get(e.post);
    if (before?.staffed === e.staffed) return null;
    const p = { staffed: e.staffed, since: e.at.toISOString() };
    this.posts.set(e.post, p);
    return p;
  }

  peopleIn(zone: string): number {
    return this.zones.get(zone) ?? 0;
  }

  /** Tickets waiting, all services. */
  get waitingTotal(): number {
    let n = 0;
    for (const q of this.services.values()) n += q.waiting.length;
    return n;
  }

  queues(): Record<string, QueueView> {
    return Object.fromEntries([...this.services].map(([id, q]) => [id, q.view()]));
  }

  occupancyByZone(): Record<string, number> {
    return Object.fromEntries(this.zones);
  }

  postStates(): Record<string, PostView> {
    return Object.fromEntries(this.posts);
  }

  footfallByHour(): FootfallHour[] {
    return [...this.footfallHours.values()].sort((a, b) => a.hour.localeCompare(b.hour));
  }

  summary(ts: string): BranchSummary {
    const queues = [...this.services];
    return {
      waiting: Object.fromEntries(queues.map(([s, q]) => [s, q.waiting.length])),
      estimatedWaitMin: Object.fromEntries(queues.map(([s, q]) => [s, q.estimatedWaitMin])),
      occupancy: this.occupancyByZone(),
      ts,
    };
  }
}
