import { Injectable } from '@nestjs/common';
import { Between, In, LessThan, MoreThanOrEqual, type EntityManager } from 'typeorm';
import { AnalyticsBucketRecord, AnalyticsLevelRecord, TrackEventRecord } from '../persistence/entities.js';
import { byBranch, chunks } from '../persistence/batch.js';
import { GroupCommit } from '../persistence/group-commit.js';
import { Store } from '../persistence/store.js';

export type BucketKind = 'dwell' | 'transition' | 'wait' | 'task' | 'density' | 'counters';
export type LevelKind = 'density' | 'counters';

export interface Bucket {
  kind: BucketKind;
  key: string;
  at: string;
  data: Record<string, unknown>;
}

export interface Level {
  kind: LevelKind;
  key: string;
  value: number;
  since: string;
}

export type TrackRow = Pick<TrackEventRecord, 'track' | 'zone' | 'event' | 'at'>;

/** What a batch of events changed in the analytics: stored in one transaction (with other branches' changes). */
export interface AnalyticsChange {
  tracks: TrackRow[];
  buckets: Bucket[];
  levels: Level[];
}

const levelOf = ({ kind, key, value, since }: AnalyticsLevelRecord): Level => ({ kind: kind as LevelKind, key, value, since });

/** The branch analytics' tables: raw tracks, aggregate buckets, and the levels being integrated. */
@Injectable()
export class AnalyticsRepository {
  constructor(
    private readonly store: Store,
    private readonly commits: GroupCommit,
  ) {}

  async bucket(branchId: string, kind: BucketKind, key: string, at: string): Promise<Bucket | null> {
    const row = await this.store.manager.findOneBy(AnalyticsBucketRecord, { branchId, kind, key, at });
    return row && { kind, key, at, data: row.data as Record<string, unknown> };
  }

  /** Buckets of these kinds starting in [from, to). */
  async buckets(branchId: string, kinds: BucketKind[], from: string, to: string): Promise<Bucket[]> {
    const rows = await this.store.manager.find(AnalyticsBucketRecord, { where: { branchId, kind: In(kinds), at: Between(from, to) }, order: { at: 'ASC' } });
    return rows.filter((r) => r.at < to).map(({ kind, key, at, data }) => ({ kind: kind as BucketKind, key, at, data: data as Record<string, unknown> }));
  }

  async levels(branchId: string): Promise<Level[]> {
    return (await this.store.manager.findBy(AnalyticsLevelRecord, { branchId })).map(levelOf);
  }

  /** Each branch's levels, for start-up: one query for all of them. */
  async levelsByBranch(branchIds: string[]): Promise<Map<string, Level[]>> {
    const rows = await byBranch(branchIds, (ids) => this.store.manager.findBy(AnalyticsLevelRecord, { branchId: In(ids) }));
    return new Map(branchIds.map((id) => [id, (rows.get(id) ?? []).map(levelOf)]));
  }

  /** Each branch's raw tracks since `since`, in arrival order: to pick up the tracks still in the branch after a restart. */
  async tracksByBranch(branchIds: string[], since: string): Promise<Map<string, TrackRow[]>> {
    const select = { branchId: true, track: true, zone: true, event: true, at: true } as const;
    const rows = await byBranch(branchIds, (ids) => this.store.manager.find(TrackEventRecord, { where: { branchId: In(ids), at: MoreThanOrEqual(since) }, order: { id: 'ASC' }, select }));
    return new Map(branchIds.map((id) => [id, (rows.get(id) ?? []).map(({ track, zone, event, at }) => ({ track, zone, event, at }))]));
  }

  /**
   * By group commit (`later`: nothing waits for them), in one transaction with what other branches asked meanwhile: one statement per table and chunk
   * for all of them (upserts: buckets and levels are whole rows, the last asked wins).
   */
  save(branchId: string, c: AnalyticsChange): Promise<void> {
    return this.commits.later(() => {
      for (const t of c.tracks) void this.commits.insert(TrackEventRecord, { branchId, ...t });
      for (const b of c.buckets) void this.commits.put(AnalyticsBucketRecord, ['branchId', 'kind', 'key', 'at'], { branchId, ...b });
      for (const l of c.levels) void this.commits.put(AnalyticsLevelRecord, ['branchId', 'kind', 'key'], { branchId, ...l });
    });
  }

  /** Deletes raw tracks older than `before`; returns how many. */
  async pruneTracks(branchId: string, before: string): Promise<number> {
    return this.store.transaction(async (em) => (await em.delete(TrackEventRecord, { branchId, at: LessThan(before) })).affected ?? 0);
  }

  /** The same for many branches at start-up, in the caller's transaction: one statement per chunk of branches. */
  async pruneTracksIn(em: EntityManager, branchIds: string[], before: string): Promise<void> {
    for (const ids of chunks(branchIds, 500)) await em.delete(TrackEventRecord, { branchId: In(ids), at: LessThan(before) });
  }
}
