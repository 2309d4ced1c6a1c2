import { Injectable } from '@nestjs/common';
import { And, In, LessThan, MoreThanOrEqual } from 'typeorm';
import type { FootfallHour, PostView } from '../contracts/views.js';
import { FootfallHourRecord, PostStateRecord } from '../persistence/entities.js';
import { byBranch, upsertAll } from '../persistence/batch.js';
import { GroupCommit } from '../persistence/group-commit.js';
import { Store } from '../persistence/store.js';

const hourOf = (r: FootfallHourRecord): FootfallHour => ({ hour: r.hour, in: r.inCount, out: r.outCount });

/** The branch's staff posts and hourly footfall: what the live model keeps across a restart besides queues. */
@Injectable()
export class SiteRepository {
  constructor(
    private readonly store: Store,
    private readonly commits: GroupCommit,
  ) {}

  /** Each branch's posts, for start-up: one query for all of them. */
  async postsByBranch(branchIds: string[]): Promise<Map<string, Map<string, PostView>>> {
    const rows = await byBranch(branchIds, (ids) => this.store.manager.findBy(PostStateRecord, { branchId: In(ids) }));
    return new Map(branchIds.map((id) => [id, new Map((rows.get(id) ?? []).map((r) => [r.post, { staffed: r.staffed, since: r.since }]))]));
  }

  savePost(branchId: string, post: string, p: PostView): Promise<unknown> {
    return this.store.write((em) => upsertAll(em, PostStateRecord, [{ branchId, post, ...p }], ['branchId', 'post']));
  }

  /** Hours starting in [since, until). */
  async footfall(branchId: string, since: string, until?: string): Promise<FootfallHour[]> {
    const hour = until === undefined ? MoreThanOrEqual(since) : And(MoreThanOrEqual(since), LessThan(until));
    const rows = await this.store.manager.find(FootfallHourRecord, { where: { branchId, hour }, order: { hour: 'ASC' } });
    return rows.map(hourOf);
  }

  /** Each branch's hours starting from `since`, for start-up: one query for all of them. */
  async footfallByBranch(branchIds: string[], since: string): Promise<Map<string, FootfallHour[]>> {
    const rows = await byBranch(branchIds, (ids) => this.store.manager.find(FootfallHourRecord, { where: { branchId: In(ids), hour: MoreThanOrEqual(since) }, order: { hour: 'ASC' } }));
    return new Map(branchIds.map((id) => [id, (rows.get(id) ?? []).map(hourOf)]));
  }

  /** The hour's totals as the model has them (idempotent: a later write carries them too), group-committed with others (`later`). */
  saveFootfall(branchId: string, h: FootfallHour): Promise<unknown> {
    return this.commits.later(() => void this.commits.put(FootfallHourRecord, ['branchId', 'hour'], { branchId, hour: h.hour, inCount: h.in, outCount: h.out }));
  }
}
