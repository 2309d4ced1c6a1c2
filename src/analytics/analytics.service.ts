import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock } from '../clock/clock.js';
import { HUB_CONFIG } from '../config/config.module.js';
import type { HubConfig } from '../config/config.schema.js';
import type { AnalyticsReport } from '../contracts/analytics.js';
import { Rejection } from '../contracts/rejection.js';
import { SiteRepository } from '../signals/site.repository.js';
import { AnalyticsRepository } from './analytics.repository.js';
import { DENSITY_MS, MAX_LEVEL_SPAN_MS } from './branch-analytics.js';
import { buildReport } from './report.js';

/**
 * Answers analytics questions from the database alone (what any hub of a cluster can read): stored
 * aggregates and the levels' last changes, never the raw tracks.
 */
@Injectable()
export class AnalyticsService {
  constructor(
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly repo: AnalyticsRepository,
    private readonly site: SiteRepository,
  ) {}

  /** [from, to); without them, today (midnight to midnight in the hub's time zone, on the hub's clock). */
  async report(branchId: string, from?: string, to?: string): Promise<AnalyticsReport> {
    const branch = this.config.branches.find((b) => b.id === branchId);
    if (!branch) throw new Rejection('not-found', `no branch ${branchId}`);
    const now = this.clock.now();
    const span = from && to ? { from: Date.parse(from), to: Date.parse(to) } : today(now);
    const [fromIso, toIso] = [new Date(span.from).toISOString(), new Date(span.to).toISOString()];
    // Level buckets a little before `from`: a level's live span is added from there.
    const [hourly, levelled, levels, footfall] = await Promise.all([
      this.repo.buckets(branchId, ['dwell', 'transition', 'wait', 'task'], fromIso, toIso),
      this.repo.buckets(branchId, ['density', 'counters'], new Date(span.from - DENSITY_MS).toISOString(), toIso),
      this.repo.levels(branchId),
      this.site.footfall(branchId, fromIso, toIso),
    ]);
    const live = levels.filter((l) => Date.parse(l.since) < span.to && Date.parse(l.since) > span.from - MAX_LEVEL_SPAN_MS - DENSITY_MS);
    return buildReport({ branch, ...span, now, footfall, buckets: [...hourly, ...levelled], levels: live });
  }
}

function today(now: number): { from: number; to: number } {
  const start = new Date(now);
  start.setHours(0, 0, 0, 0);
  const end = new Date(start);
  end.setDate(end.getDate() + 1);
  return { from: start.getTime(), to: end.getTime() };
}
