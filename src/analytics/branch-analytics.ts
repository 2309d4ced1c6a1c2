import { isoAt, type Clock } from '../clock/clock.js';
import type { BranchConfig } from '../config/config.schema.js';
import type { Task, TaskTransition } from '../contracts/views.js';
import type { HubEventMap } from '../hub-events.js';
import type { Deadline } from '../schedule/deadline.js';
import type { QueueChange } from '../signals/queue.repository.js';
import type { AnalyticsChange, AnalyticsRepository, Bucket, BucketKind, Level, LevelKind, TrackRow } from './analytics.repository.js';
import { add, remove, type Histogram } from './histogram.js';
import { TrackBook, type Contribution } from './tracks.js';

export const HOUR_MS = 3600_000;
export const DENSITY_MS = 5 * 60_000;
/** A level is assumed to have held at most this long without news (a hub down overnight does not fill the night). */
export const MAX_LEVEL_SPAN_MS = 12 * HOUR_MS;
/** At start-up, the raw tracks of this span are taken up again (tracks still in the branch, late events). */
export const TRACK_MEMORY_MS = 12 * HOUR_MS;
/** Buckets kept in memory between events; past it the cache starts again from the database. */
const CACHE_LIMIT = 5000;

export const startOf = (ms: number, unit: number) => isoAt(Math.floor(ms / unit) * unit);

/** The 5-minute buckets [from, to) covers and the seconds of each, reaching at most MAX_LEVEL_SPAN_MS past `from` (the level's last news). */
export function spans(from: number, to: number): { at: number; sec: number }[] {
  const out: { at: number; sec: number }[] = [];
  const stop = Math.min(to, from + MAX_LEVEL_SPAN_MS);
  for (let b = Math.floor(from / DENSITY_MS) * DENSITY_MS; b < stop; b += DENSITY_MS) {
    const sec = (Math.min(stop, b + DENSITY_MS) - Math.max(from, b)) / 1000;
    if (sec > 0) out.push({ at: b, sec });
  }
  return out;
}

/** A level held for `sec` seconds, added to a bucket: person-seconds (`area`), seconds known, max. */
export function hold(d: Record<string, unknown>, value: number, sec: number): void {
  d.area = ((d.area as number) ?? 0) + value * sec;
  d.known = ((d.known as number) ?? 0) + sec;
  d.max = Math.max((d.max as number) ?? 0, value);
}

/**
 * One branch's analytics, kept as events arrive (never by rescanning raw rows): per hour, dwell per zone,
 * transitions, waits per service and tasks per type; per 5 minutes, people per zone and counters open,
 * integrated over time. What events change — with their raw track rows — is stored by group commit (`commit`),
 * so the aggregates survive a restart; tracks still in the branch are picked up from the raw rows.
 * Called only by its branch's owner, one event at a time.
 */
export class BranchAnalytics {
  private readonly cache = new Map<string, Bucket>();
  private readonly dirty = new Map<string, Bucket>();
  private readonly tracks = new TrackBook();
  private readonly levels = new Map<string, Level>();
  private readonly dirtyLevels = new Map<string, Level>();
  private readonly newTracks: TrackRow[] = [];
  private commitQueued = false;
  /** The last change asked of the group commit, settled once stored or failed: commits land in order, so then every earlier one has too. */
  private saving: Promise<void> = Promise.resolve();

  private readonly branchId: string;

  constructor(
    private readonly branch: BranchConfig,
    private readonly p: { clock: Clock; analytics: AnalyticsRepository; logger: { error(m: string): void } },
    /** Queues `commit` as a turn of the branch's owner, after the turns already waiting. */
    private readonly commitLater: () => void,
  ) {
    this.branchId = branch.id;
  }

  /** Takes up the stored levels, and the raw tracks of the last TRACK_MEMORY_MS in arrival order. */
  load(levels: Level[], tracks: TrackRow[]): void {
    for (const l of levels) this.levels.set(`${l.kind}|${l.key}`, l);
    for (const r of tracks) this.tracks.add(r.track, { zone: r.zone, event: r.event as 'enter' | 'exit', at: Date.parse(r.at) });
  }

  /** Deletes raw tracks older than `retentionDays` on the hub's clock; returns when to do it again (hourly, a durable deadline). */
  async retention(): Promise<Deadline> {
    const { before, next } = this.retentionPlan();
    await this.p.analytics.pruneTracks(this.branchId, before);
    return next;
  }

  /** What `retention` deletes before, and its next deadline: start-up does it for all branches at once. */
  retentionPlan(now = this.p.clock.now()): { before: string; next: Deadline } {
    const next: Deadline = { key: `analytics:${this.branchId}:retention`, branchId: this.branchId, kind: 'analytics-retention', dueAt: new Date(now + HOUR_MS).toISOString(), data: {} };
    return { before: new Date(now - this.branch.rules.retentionDays * 24 * HOUR_MS).toISOString(), next };
  }

  /** People in each zone as last stored, to restore the live model. */
  occupancy(): Record<string, number> {
    return Object.fromEntries([...this.levels.values()].filter((l) => l.kind === 'density').map((l) => [l.key, l.value]));
  }

  async track(e: HubEventMap['track']): Promise<void> {
    const { added, removed } = this.tracks.add(e.track, { zone: e.zone, event: e.event, at: e.at.getTime() });
    for (const c of removed) await this.contribute(c, -1);
    for (const c of added) await this.contribute(c, +1);
    this.newTracks.push({ track: e.track, zone: e.zone, event: e.event, at: isoAt(e.at.getTime()) });
    this.changed();
  }

  /** A level changed (people in a zone, counters open): what it was is integrated up to `atMs`. */
  async level(kind: LevelKind, key: string, value: number, atMs: number): Promise<void> {
    const id = `${kind}|${key}`;
    const before = this.levels.get(id);
    if (before?.value === value) return;
    const since = before ? Date.parse(before.since) : atMs;
    const at = Math.max(atMs, since);
    if (before) for (const span of spans(since, at)) hold(await this.bucket(kind, key, span.at, DENSITY_MS), before.value, span.sec);
    const now = await this.bucket(kind, key, at, DENSITY_MS);
    now.max = Math.max((now.max as number) ?? 0, value);
    const level: Level = { kind, key, value, since: isoAt(at) };
    this.levels.set(id, level);
    this.dirtyLevels.set(id, level);
    this.changed();
  }

  /** A ticket event, with what the queue learned from it (waits issued→called, service called→served). */
  async queue(e: HubEventMap['queue'], change: QueueChange | null): Promise<void> {
    const at = e.at.getTime();
    if (e.event === 'counters') return this.level('counters', e.service, e.open, at);
    const d = await this.bucket('wait', e.service, at, HOUR_MS);
    const n = (k: string) => (d[k] = ((d[k] as number) ?? 0) + 1);
    if (e.event === 'issued') n('issued');
    else if (e.event === 'abandoned') n('abandoned');
    else if (e.event === 'called' && change?.waitedMin !== undefined) add((d.hist ??= {}) as Histogram, change.waitedMin * 60);
    else if (e.event === 'served' && change?.servedMin !== undefined) {
      n('services');
      d.serviceSec = ((d.serviceSec as number) ?? 0) + change.servedMin * 60;
    } else if (e.event === 'served') n('uncalled');
    this.changed();
  }

  /** A task's step: created, accepted (time since creation), completed, failed. */
  async task(task: Task, transitions: TaskTransition[]): Promise<void> {
    for (const t of transitions) {
      const at = Date.parse(t.at);
      const d = await this.bucket('task', task.type, at, HOUR_MS);
      const n = (k: string) => (d[k] = ((d[k] as number) ?? 0) + 1);
      if (t.fromState === null) n('count');
      if (t.toState === 'completed') n('completed');
      if (t.toState === 'failed') n('failed');
      if (t.toState === 'accepted') add((d.accept ??= {}) as Histogram, (at - Date.parse(task.createdAt)) / 1000);
    }
    if (transitions.length) this.changed();
  }

  private async contribute(c: Contribution, sign: 1 | -1): Promise<void> {
    if (c.kind === 'dwell') {
      const hist = ((await this.bucket('dwell', c.zone, c.at, HOUR_MS)).hist ??= {}) as Histogram;
      (sign > 0 ? add : remove)(hist, c.ms / 1000);
    } else {
      const d = await this.bucket('transition', `${c.from}>${c.to}`, c.at, HOUR_MS);
      d.count = ((d.count as number) ?? 0) + sign;
    }
  }

  /** The bucket's data, marked to be stored with this event. */
  private async bucket(kind: BucketKind, key: string, atMs: number, unit: number): Promise<Record<string, unknown>> {
    const at = startOf(atMs, unit);
    const id = `${kind}|${key}|${at}`;
    // Changed and not yet stored: the cache may have been emptied since, the database is behind.
    let b = this.dirty.get(id) ?? this.cache.get(id);
    if (!b) {
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      b = (await this.p.analytics.bucket(this.branchId, kind, key, at)) ?? { kind, key, at, data: {} };
      this.cache.set(id, b);
    }
    this.dirty.set(id, b);
    return b.data;
  }

  /**
   * Group commit: what the events since the last commit changed is taken as a turn of its own, queued behind the
   * events already waiting, and stored in one transaction behind the turns (one commit after another, so rows
   * never land out of order); the returned promise resolves once it is stored. One event alone is stored right
   * after it; a burst costs one write, not one per message. A kill -9 may lose the analytics of the events of
   * the last batch (never tasks, queues or alerts, which are stored within their own turn).
   */
  commit(): Promise<void> {
    this.commitQueued = false;
    if (!this.newTracks.length && !this.dirty.size && !this.dirtyLevels.size) return this.saving;
    const change = { tracks: this.newTracks.splice(0), buckets: [...this.dirty.values()], levels: [...this.dirtyLevels.values()] };
    this.dirty.clear();
    this.dirtyLevels.clear();
    // Not chained behind the last one: group commits land in order, and a chain drained one change per commit
    // fell behind under load (seconds of changes queued, each holding its tracks).
    this.saving = this.store(change);
    return this.saving;
  }

  private async store(change: AnalyticsChange): Promise<void> {
    try {
      await this.p.analytics.save(this.branchId, change);
    } catch (e) {
      // Kept for the next commit: buckets and levels are whole rows, so storing them again is harmless.
      this.p.logger.error(`${this.branchId}: analytics not stored, retried with the next event: ${(e as Error).message}`);
      this.newTracks.unshift(...change.tracks);
      for (const b of change.buckets) this.dirty.set(`${b.kind}|${b.key}|${b.at}`, b);
      for (const l of change.levels) if (!this.dirtyLevels.has(`${l.kind}|${l.key}`)) this.dirtyLevels.set(`${l.kind}|${l.key}`, l);
    }
  }

  /**
   * One change in flight at a time: what events change while it is being stored goes into the next. Under a burst
   * that is one commit per group commit, not one per message (each a turn and a unit of its own: BENCHMARKS.md, part 10).
   */
  private changed(): void {
    if (this.commitQueued) return;
    this.commitQueued = true;
    void this.saving.then(this.commitLater);
  }
}
