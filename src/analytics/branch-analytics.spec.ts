import type { Clock } from '../clock/clock.js';
import type { BranchConfig } from '../config/config.schema.js';
import type { AnalyticsChange, AnalyticsRepository } from './analytics.repository.js';
import { BranchAnalytics } from './branch-analytics.js';

/** The aggregator's group commit, with a stubbed repository (the real one is exercised in test/analytics.test.ts). */
describe('analytics group commit', () => {
  const saved: AnalyticsChange[] = [];
  let failNext = false;
  const repo = {
    bucket: async () => null,
    save: async (_b: string, c: AnalyticsChange) => {
      if (failNext) {
        failNext = false;
        throw new Error('disk full');
      }
      saved.push(c);
    },
  } as unknown as AnalyticsRepository;
  const errors: string[] = [];
  let commits = 0;
  const branch = { id: 'b1', rules: { retentionDays: 30 } } as BranchConfig;
  const clock = { now: () => Date.parse('2026-12-30T02:00:00Z') } as Clock;
  const analytics = new BranchAnalytics(branch, { clock, analytics: repo, logger: { error: (m) => errors.push(m) } }, () => commits++);
  const track = (t: string, zone: string, event: 'enter' | 'exit', at: string) =>
    analytics.track({ branchId: 'b1', deviceId: 'cam', track: t, zone, event, at: new Date(at) });

  it('asks for one commit per burst and stores the burst in one change', async () => {
    await track('t1', 'waiting', 'enter', '2026-12-30T01:00:00Z');
    await track('t1', 'waiting', 'exit', '2026-12-30T01:05:00Z');
    await track('t1', 'outside', 'enter', '2026-12-30T01:05:01Z');
    expect(commits).toBe(1);
    await analytics.commit();
    expect(saved).toHaveLength(1);
    expect(saved[0].tracks).toHaveLength(3);
    expect(saved[0].buckets.map((b) => `${b.kind}|${b.key}`)).toEqual(['dwell|waiting', 'transition|waiting>outside']);
  });

  it('keeps a change that could not be stored for the next commit', async () => {
    await track('t2', 'waiting', 'enter', '2026-12-30T01:10:00Z');
    failNext = true;
    await analytics.commit();
    expect(errors[0]).toMatch(/^b1: analytics not stored, retried with the next event: disk full/);
    await track('t2', 'waiting', 'exit', '2026-12-30T01:20:00Z');
    expect(commits).toBe(3);
    await analytics.commit();
    expect(saved).toHaveLength(2);
    expect(saved[1].tracks.map((t) => t.event)).toEqual(['enter', 'exit']);
    expect(saved[1].buckets.find((b) => b.kind === 'dwell')?.data).toEqual({ hist: expect.any(Object) });
  });
});

describe('analytics bucket cache', () => {
  it('keeps changes not yet stored when the cache starts again', async () => {
    const saved: AnalyticsChange[] = [];
    const repo = { bucket: async () => null, save: async (_b: string, c: AnalyticsChange) => void saved.push(c) } as unknown as AnalyticsRepository;
    const clock = { now: () => 0 } as Clock;
    const analytics = new BranchAnalytics({ id: 'b1' } as BranchConfig, { clock, analytics: repo, logger: { error: () => undefined } }, () => undefined);
    const issue = (service: string) => analytics.queue({ branchId: 'b1', deviceId: 'qms', at: new Date('2026-12-30T01:00:00Z'), ts: undefined, event: 'issued', ticket: 'A1', service }, null);
    await issue('card');
    // More buckets than the cache holds, all in one batch: the first is still the one being counted.
    for (let i = 0; i < 5001; i++) await issue(`s${i}`);
    await issue('card');
    await analytics.commit();
    expect(saved[0].buckets.find((b) => b.key === 'card')?.data).toEqual({ issued: 2 });
  });
});
