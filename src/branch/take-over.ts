import type { AlertRepository } from '../alerts/alert.repository.js';
import type { AppointmentRepository } from '../appointments/appointment.repository.js';
import type { AnalyticsRepository, Level, TrackRow } from '../analytics/analytics.repository.js';
import { TRACK_MEMORY_MS } from '../analytics/branch-analytics.js';
import type { Clock } from '../clock/clock.js';
import type { AlertView, AppointmentView, FootfallHour, PostView, Task } from '../contracts/views.js';
import { deviceReturnKey } from '../flows/device-health.flow.js';
import type { FlowStateRepository, StoredFlow } from '../flows/flow-state.repository.js';
import type { Store } from '../persistence/store.js';
import type { Deadline } from '../schedule/deadline.js';
import type { DeadlineRepository } from '../schedule/deadline.repository.js';
import { FOOTFALL_HOURS } from '../signals/branch-model.js';
import type { QueueRepository, StoredQueues } from '../signals/queue.repository.js';
import type { SiteRepository } from '../signals/site.repository.js';
import type { TaskRepository } from '../tasks/task.repository.js';

/** What the owner of a branch takes over at start-up, as stored. */
export interface StoredBranch {
  queues: StoredQueues;
  posts: Map<string, PostView>;
  /** The last FOOTFALL_HOURS. */
  footfall: FootfallHour[];
  levels: Level[];
  /** The last TRACK_MEMORY_MS, in arrival order. */
  tracks: TrackRow[];
  openTasks: Task[];
  lastDispatched: Map<string, number>;
  flows: StoredFlow[];
  /** Who an earlier start still expects back. */
  deviceReturn: Deadline | null;
  openAlerts: AlertView[];
  /** Booked, due or arrived. */
  appointments: AppointmentView[];
}

export interface TakeOverPorts {
  clock: Clock;
  store: Store;
  queues: QueueRepository;
  site: SiteRepository;
  analytics: AnalyticsRepository;
  repo: TaskRepository;
  flowStates: FlowStateRepository;
  deadlines: DeadlineRepository;
  alerts: AlertRepository;
  appointments: AppointmentRepository;
}

/**
 * Every branch's stored state, read at once: one query per table (per few hundred branches), not a dozen
 * per branch one after another — on SQLite's one connection, a thousand branches waited on 14,000 round trips.
 */
export async function readBranches(ids: string[], p: TakeOverPorts): Promise<(id: string) => StoredBranch> {
  const ago = (ms: number) => new Date(p.clock.now() - ms).toISOString();
  const [queues, posts, footfall, levels, tracks, openTasks, lastDispatched, flows, returns, openAlerts, appointments] = await Promise.all([
    p.queues.loadByBranch(ids),
    p.site.postsByBranch(ids),
    p.site.footfallByBranch(ids, ago(FOOTFALL_HOURS * 3600_000)),
    p.analytics.levelsByBranch(ids),
    p.analytics.tracksByBranch(ids, ago(TRACK_MEMORY_MS)),
    p.repo.openByBranch(ids),
    p.repo.lastDispatchedByBranch(ids),
    p.flowStates.byBranch(ids),
    p.deadlines.findMany(ids.map(deviceReturnKey)),
    p.alerts.openByBranch(ids),
    p.appointments.liveByBranch(ids),
  ]);
  const deviceReturn = new Map(returns.map((d) => [d.branchId, d]));
  return (id) => ({
    queues: queues.get(id)!,
    posts: posts.get(id)!,
    footfall: footfall.get(id)!,
    levels: levels.get(id)!,
    tracks: tracks.get(id)!,
    openTasks: openTasks.get(id)!,
    lastDispatched: lastDispatched.get(id)!,
    flows: flows.get(id) ?? [],
    deviceReturn: deviceReturn.get(id) ?? null,
    openAlerts: openAlerts.get(id) ?? [],
    appointments: appointments.get(id) ?? [],
  });
}

/**
 * The writes branches make as they are taken over — the analytics' retention and its next run, who is expected
 * back, and the flow actors' saves held meanwhile (FlowStateRepository.hold) — stored in one transaction once
 * every branch is loaded.
 */
export class TakeOverWrites {
  /** Branch ids by the time before which their raw tracks go. */
  private readonly prunes = new Map<string, string[]>();
  private readonly deadlines: Deadline[] = [];

  /** @param now the hub's clock at the take-over: one time for all branches, so that prunes with the same retention are one statement. */
  constructor(readonly now: number) {}

  prune(branchId: string, before: string): void {
    if (!this.prunes.has(before)) this.prunes.set(before, []);
    this.prunes.get(before)!.push(branchId);
  }

  schedule(d: Deadline): void {
    this.deadlines.push(d);
  }

  /** The deadlines are armed by the scheduler's load, which reads them all back. */
  store(p: TakeOverPorts): Promise<void> {
    const storeHeld = p.flowStates.takeHeld();
    return p.store.transaction(async (em) => {
      for (const [before, ids] of this.prunes) await p.analytics.pruneTracksIn(em, ids, before);
      await p.deadlines.putAll(em, this.deadlines);
      await storeHeld(em);
    });
  }
}
