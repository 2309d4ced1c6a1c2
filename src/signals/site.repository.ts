import { Injectable } from '@nestjs/common';
import { And, LessThan, MoreThanOrEqual } from 'typeorm';
import type { FootfallHour, PostView } from '../contracts/views.js';
import { FootfallHourRecord, PostStateRecord } from '../persistence/entities.js';
import { GroupCommit } from '../persistence/group-commit.js';
import { Store } from '../persistence/store.js';

/** The branch's staff posts and hourly footfall: what the live model keeps across a restart besides queues. */
@Injectable()
export class SiteRepository {
  constructor(
    private readonly store: Store,
    private readonly commits: GroupCommit,
  ) {}

  async posts(branchId: string): Promise<Map<string, PostView>> {
    const rows = await this.store.manager.findBy(PostStateRecord, { branchId });
    return new Map(rows.map((r) => [r.post, { staffed: r.staffed, since: r.since }]));
  }

  savePost(branchId: string, post: string, p: PostView): Promise<unknown> {
    return this.store.write((em) => this.store.upsert(em, PostStateRecord, [{ branchId, post, ...p }], ['branchId', 'post']));
  }

  /** Hours starting in [since, until). */
  async footfall(branchId: string, since: string, until?: string): Promise<FootfallHour[]> {
    const hour = until === undefined ? MoreThanOrEqual(since) : And(MoreThanOrEqual(since), LessThan(until));
    const rows = await this.store.manager.find(FootfallHourRecord, { where: { branchId, hour }, order: { hour: 'ASC' } });
    return rows.map((r) => ({ hour: r.hour, in: r.inCount, out: r.outCount }));
  }

  /** The hour's totals as the model has them (idempotent: a later write carries them too), group-committed. */
  saveFootfall(branchId: string, h: FootfallHour): Promise<unknown> {
    return this.commits.put(FootfallHourRecord, ['branchId', 'hour'], { branchId, hour: h.hour, inCount: h.in, outCount: h.out });
  }
}
