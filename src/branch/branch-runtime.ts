import { Logger } from '@nestjs/common';
import { isoOf, type Clock, type TimerHandle } from '../clock/clock.js';
import type { AlertsService } from '../alerts/alerts.service.js';
import type { AnalyticsRepository } from '../analytics/analytics.repository.js';
import { BranchAnalytics } from '../analytics/branch-analytics.js';
import { AppointmentBook } from '../appointments/appointment-book.js';
import type { AppointmentRepository } from '../appointments/appointment.repository.js';
import type { BranchConfig } from '../config/config.schema.js';
import { Rejection } from '../contracts/rejection.js';
import type { BrokerService } from '../broker/broker.service.js';
import { topics } from '../contracts/topics.js';
import type { Task } from '../contracts/views.js';
import type { DevicesService } from '../devices/devices.service.js';
import { DeviceHealthFlow } from '../flows/device-health.flow.js';
import { FlowHost } from '../flows/flow-host.js';
import type { FlowStateRepository } from '../flows/flow-state.repository.js';
import { GreetingFlow } from '../flows/greeting.flow.js';
import type { HubEventMap, HubEvents } from '../hub-events.js';
import { KeyedQueue } from '../keyed-queue.js';
import type { Deadline } from '../schedule/deadline.js';
import type { DeadlineRepository } from '../schedule/deadline.repository.js';
import type { Scheduler } from '../schedule/scheduler.service.js';
import { BranchModel } from '../signals/branch-model.js';
import type { QueueRepository } from '../signals/queue.repository.js';
import type { SiteRepository } from '../signals/site.repository.js';
import { TaskBook, type CreateTask, type TaskPorts } from '../tasks/task-book.js';
import { BranchFlows, FLOWS } from './branch-flows.js';
import type { StoredBranch, TakeOverWrites } from './take-over.js';

/** Hub ms a summary change waits for more before it is published. */
export const SUMMARY_EVERY_MS = 200;

/** The signals a branch's owner takes, one at a time. */
export const BRANCH_SIGNALS = ['presence', 'deviceState', 'footfall', 'occupancy', 'post', 'track', 'conduct', 'queue', 'ack', 'hqRequest'] as const;
export type BranchSignal = (typeof BRANCH_SIGNALS)[number];

export interface RuntimePorts extends TaskPorts {
  clock: Clock;
  devices: DevicesService;
  events: HubEvents;
  broker: BrokerService;
  scheduler: Scheduler;
  deadlines: DeadlineRepository;
  queues: QueueRepository;
  site: SiteRepository;
  flowStates: FlowStateRepository;
  alerts: AlertsService;
  analytics: AnalyticsRepository;
  appointments: AppointmentRepository;
}

/**
 * The owner of one branch's live work: its open tasks, the live model (queues, zones, posts, footfall),
 * flow actors and deadlines. Everything that changes them — device signals, deadlines, managers'
 * commands — is one turn here, taken one at a time in arrival order; state is written through
 * repositories as it changes, so a restart (or, later, another hub) can take the branch over from the database.
 */
export class BranchRuntime {
  private readonly logger = new Logger(BranchRuntime.name);
  private readonly turns = new KeyedQueue();
  /** The last queue change asked of the group commit, settled once stored or failed: commits land in order, so then every earlier one has too. */
  private queueStored: Promise<unknown> = Promise.resolve();
  readonly tasks: TaskBook;
  readonly model: BranchModel;
  private readonly analytics: BranchAnalytics;
  private readonly appointments: AppointmentBook;
  private readonly host: FlowHost;
  private readonly flows: BranchFlows;
  private readonly greeting: GreetingFlow;
  private readonly health: DeviceHealthFlow;
  private lastSummary = '';
  /** A summary publish is pending: signals within SUMMARY_EVERY_MS of each other make one. */
  private summaryDue: TimerHandle | undefined;
  /** Summaries go out one after another, in the order taken. */
  private summarySent: Promise<void> = Promise.resolve();

  constructor(
    readonly branch: BranchConfig,
    private readonly p: RuntimePorts,
  ) {
    this.analytics = new BranchAnalytics(branch, { ...p, logger: this.logger }, () => void this.run(async () => void this.analytics.commit()));
    this.tasks = new TaskBook(branch, { ...p, observe: (task, transitions) => this.analytics.task(task, transitions) });
    this.model = new BranchModel(branch);
    this.appointments = new AppointmentBook(branch, { ...p, logger: this.logger }, (req) => this.tasks.create(req));
    this.host = new FlowHost(branch.id, FLOWS, { clock: p.clock, repo: p.flowStates, scheduler: p.scheduler, effect: (e) => this.flows.effect(e), leaveBehind: (w) => this.leaveBehind(w) });
    this.flows = new BranchFlows(branch, this.model, this.tasks, this.host, p);
    this.greeting = new GreetingFlow(branch, {
      clock: p.clock,
      createTask: (req, opts) => this.run(() => this.tasks.create(req, opts)),
      raiseAlert: (subject, message, data) => this.run(() => this.raise({ type: 'vip-arrival', subject, message, data })),
    });
    this.health = new DeviceHealthFlow(branch, p.clock, p.devices, this.host);
  }

  /** Runs `work` as this branch's next turn. */
  run<T>(work: () => Promise<T>): Promise<T> {
    return this.turns.run(this.branch.id, work);
  }

  /**
   * Takes over what was stored (read for all branches at once): the live model, analytics, open tasks, flow actors,
   * who is expected back; then starts the greeting. What it writes besides tasks goes into `writes`, stored for all branches together.
   */
  async load(stored: StoredBranch, writes: TakeOverWrites): Promise<void> {
    this.p.alerts.takeOver(this.branch.id, stored.openAlerts);
    this.appointments.load(stored.appointments);
    this.analytics.load(stored.levels, stored.tracks);
    this.model.restore(stored.queues, stored.posts, stored.footfall, this.analytics.occupancy());
    const retention = this.analytics.retentionPlan(writes.now);
    writes.prune(this.branch.id, retention.before);
    writes.schedule(retention.next);
    await this.tasks.load(stored.openTasks, stored.lastDispatched);
    await this.host.load(stored.flows);
    await this.flows.reconcile();
    const expected = this.health.returnDeadline(stored.deviceReturn);
    if (expected) writes.schedule(expected);
    this.greeting.start();
    await this.publishSummary();
  }

  /** Finishes the turns already queued; deadlines and flow states stay stored for the next owner. */
  async stop(): Promise<void> {
    this.greeting.stop();
    await this.turns.drain();
    await this.queueStored;
    if (this.summaryDue !== undefined) {
      this.p.clock.clearTimeout(this.summaryDue);
      this.summaryDue = undefined;
      await this.publishSummary();
    }
    await this.summarySent;
    // The group commit the last turns queued may not have run yet.
    await this.analytics.commit();
    this.host.stop();
  }

  /** Resolves once the turns queued so far have run and what they left behind outside the group commit is stored. */
  async settled(): Promise<void> {
    await this.run(async () => undefined);
    await Promise.all([this.queueStored, this.analytics.commit()]);
  }

  /** Takes the signal as a turn; resolves once it has run (what it left behind is stored after). */
  signal<K extends BranchSignal>(name: K, e: HubEventMap[K]): Promise<void> {
    return this.run(() => this.take(name, e));
  }

  /**
   * A write the turn does not wait for (nothing that leaves the hub depends on it): the next turn goes on while it
   * is stored, in order. If it fails, that is logged; for a latest value, the next write of its row repairs it.
   * Resolves once it settled, either way.
   */
  private leaveBehind(written: Promise<unknown>): Promise<void> {
    return written.then(
      () => undefined,
      (e) => this.logger.error(`a write of ${this.branch.id} failed: ${(e as Error).message}`),
    );
  }

  deadline(d: Deadline): Promise<void> {
    return this.run(async () => {
      // Moved or dropped while it waited for this turn: stale. (Task deadlines carry their own check.)
      if (!d.kind.startsWith('task-') && !this.p.scheduler.stillDue(d)) return;
      if (d.kind === 'device-return') return this.health.notBack(d);
      if (d.kind === 'flow') return this.host.deadline(d);
      if (d.kind === 'alert-escalate') return void (await this.p.alerts.escalate(String(d.data.alertId)));
      if (d.kind === 'analytics-retention') return this.p.scheduler.schedule(await this.analytics.retention());
      if (d.kind === 'appointment-due' || d.kind === 'appointment-missed') return this.appointments.deadline(d);
      return this.tasks.deadline(d);
    });
  }

  createTask(req: CreateTask): Promise<Task> {
    return this.run(async () => (await this.tasks.create(req))!);
  }

  cancelTask(taskId: string, by: string): Promise<Task> {
    return this.run(() => this.tasks.cancel(taskId, by));
  }

  /** A manager pauses promotions for `minutes` of the hub's clock; returns until when. */
  pausePromotions(minutes: number): Promise<string> {
    return this.run(async () => {
      const now = this.p.clock.now();
      const until = now + minutes * 60_000;
      await this.flows.pausePromotions(until, now);
      return new Date(until).toISOString();
    });
  }

  private async take<K extends BranchSignal>(name: K, event: HubEventMap[K]): Promise<void> {
    const e = event as HubEventMap[BranchSignal];
    const at = 'at' in e ? e.at.getTime() : this.p.clock.now();
    switch (name) {
      case 'presence': {
        const p = e as HubEventMap['presence'];
        await this.p.devices.presence(p);
        if (p.online) await this.tasks.deviceOnline(p.deviceId);
        else await this.tasks.release(p.deviceId, `${p.deviceId} went offline`, false);
        await this.health.check(p.deviceId, p.since.getTime());
        return this.flows.deviceChanged(p.since.getTime());
      }
      case 'deviceState': {
        const s = e as HubEventMap['deviceState'];
        this.leaveBehind(this.p.devices.state(s)); // in memory at once: the rest of the turn sees it
        if (s.status === 'fault' || s.status === 'charging') await this.tasks.release(s.deviceId, `${s.deviceId} reported ${s.status}`, true);
        if (s.status === 'idle') await this.tasks.dispatchWaiting();
        await this.health.check(s.deviceId, at);
        return this.flows.deviceChanged(at);
      }
      case 'footfall': {
        const f = e as HubEventMap['footfall'];
        const hour = this.model.footfall(f);
        if (hour) this.leaveBehind(this.p.site.saveFootfall(this.branch.id, hour));
        // The greeting first: its task's turn is queued before the analytics' commit.
        this.greeting.footfall(f);
        await this.analytics.level('density', f.zone, this.model.peopleIn(f.zone), at);
        await this.flows.occupancy(f.zone, at, false);
        return this.summaryChanged();
      }
      case 'occupancy': {
        const o = e as HubEventMap['occupancy'];
        this.model.occupancy(o.zone, o.count);
        await this.analytics.level('density', o.zone, o.count, at);
        await this.flows.occupancy(o.zone, at, true);
        return this.summaryChanged();
      }
      case 'queue': {
        const q = e as HubEventMap['queue'];
        const change = this.model.queue(q);
        // Stored in order behind the turn (nothing that leaves the hub waits for it but the summary).
        if (change) this.queueStored = this.leaveBehind(this.p.queues.save(change));
        await this.analytics.queue(q, change);
        await this.appointments.queue(q);
        await this.flows.queue(q);
        return this.summaryChanged();
      }
      case 'post': {
        const p = e as HubEventMap['post'];
        const state = this.model.post(p);
        if (state) await this.p.site.savePost(this.branch.id, p.post, state);
        return this.flows.post(p);
      }
      case 'conduct':
        return this.flows.conduct(e as HubEventMap['conduct']);
      case 'ack':
        return this.ack(e as HubEventMap['ack']);
      case 'hqRequest':
        return this.appointments.request((e as HubEventMap['hqRequest']).payload);
      case 'track':
        return this.analytics.track(e as HubEventMap['track']);
    }
  }

  private async ack(a: HubEventMap['ack']): Promise<void> {
    try {
      await this.tasks.ack(a);
    } catch (e) {
      if (!(e instanceof Rejection) || e.code === 'not-found' || e.code === 'conflict' || e.code === 'forbidden') throw e;
      await this.p.events.emit('signalRejected', { branchId: a.branchId, deviceId: a.deviceId, topic: a.topic, code: e.code, detail: e.detail });
    }
  }

  private raise(a: Omit<HubEventMap['alertRaise'], 'branchId'>): Promise<void> {
    return this.p.events.emit('alertRaise', { branchId: this.branch.id, ...a });
  }

  /**
   * What screens and dashboards see is coalesced (design.md, the hot path): the first change arms one publish
   * SUMMARY_EVERY_MS later, on the hub's clock, taken as a turn of its own so it sees the model between turns.
   */
  private summaryChanged(): void {
    this.summaryDue ??= this.p.clock.setTimeout(() => {
      this.summaryDue = undefined;
      // Taken in a turn; sent behind it, once the queue rows it shows are stored.
      void this.run(async () => void this.publishSummary());
    }, SUMMARY_EVERY_MS);
  }

  /**
   * The retained summary screens show, taken now and published when what it says changed — behind the turn, once
   * the queue changes it shows are stored: a screen never shows a ticket a restart would forget. Resolves once sent.
   */
  private publishSummary(): Promise<void> {
    const summary = this.model.summary(isoOf(this.p.clock));
    const key = JSON.stringify({ ...summary, ts: undefined });
    if (key === this.lastSummary) return this.summarySent;
    this.lastSummary = key;
    const stored = this.queueStored;
    this.summarySent = this.summarySent
      .then(async () => {
        await stored;
        await this.p.broker.publish(topics.summary(this.branch.id), summary, { qos: 1, retain: true });
        await this.p.events.emit('summary', { branchId: this.branch.id, summary });
      })
      .catch((e) => this.logger.error(`summary of ${this.branch.id}: ${(e as Error).message}`));
    return this.summarySent;
  }
}
