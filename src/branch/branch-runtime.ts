import { Logger } from '@nestjs/common';
import { isoOf, type Clock } from '../clock/clock.js';
import type { BranchConfig } from '../config/config.schema.js';
import { Rejection } from '../contracts/rejection.js';
import type { BrokerService } from '../broker/broker.service.js';
import { topics } from '../contracts/topics.js';
import type { Task } from '../contracts/views.js';
import type { DevicesService } from '../devices/devices.service.js';
import { DeviceHealthFlow, deviceReturnKey } from '../flows/device-health.flow.js';
import { GreetingFlow } from '../flows/greeting.flow.js';
import type { HubEventMap, HubEvents } from '../hub-events.js';
import { KeyedQueue } from '../keyed-queue.js';
import type { Deadline } from '../schedule/deadline.js';
import type { DeadlineRepository } from '../schedule/deadline.repository.js';
import type { Scheduler } from '../schedule/scheduler.service.js';
import { QueueBoard } from '../signals/queue-board.js';
import type { QueueRepository } from '../signals/queue.repository.js';
import { TaskBook, type CreateTask, type TaskPorts } from '../tasks/task-book.js';

/** The signals a branch's owner takes, one at a time. */
export const BRANCH_SIGNALS = ['presence', 'deviceState', 'footfall', 'occupancy', 'post', 'queue', 'ack'] as const;
export type BranchSignal = (typeof BRANCH_SIGNALS)[number];

export interface RuntimePorts extends TaskPorts {
  clock: Clock;
  devices: DevicesService;
  events: HubEvents;
  broker: BrokerService;
  scheduler: Scheduler;
  deadlines: DeadlineRepository;
  queues: QueueRepository;
}

/**
 * The owner of one branch's live work: its open tasks, queues and zones, flow actors and deadlines.
 * Everything that changes them — device signals, deadlines, managers' commands — is one turn here,
 * taken one at a time in arrival order; state is written through repositories as it changes, so a
 * restart (or, later, another hub) can take the branch over from the database.
 */
export class BranchRuntime {
  private readonly logger: Logger;
  private readonly turns = new KeyedQueue();
  readonly tasks: TaskBook;
  readonly board: QueueBoard;
  private readonly greeting: GreetingFlow;
  private readonly health: DeviceHealthFlow;
  private lastSummary = '';

  constructor(
    readonly branch: BranchConfig,
    private readonly p: RuntimePorts,
  ) {
    this.logger = new Logger(`Branch ${branch.id}`);
    this.tasks = new TaskBook(branch, p);
    this.board = new QueueBoard(branch);
    this.greeting = new GreetingFlow(branch, {
      clock: p.clock,
      createTask: (req, opts) => this.run(() => this.tasks.create(req, opts)),
      raiseAlert: (subject, message, data) => this.run(() => this.raise({ type: 'vip-arrival', subject, message, data })),
    });
    this.health = new DeviceHealthFlow(branch, {
      clock: p.clock,
      devices: p.devices,
      raise: (a) => this.raise({ type: 'device-down', ...a }),
      clear: (subject) => p.events.emit('alertClear', { branchId: branch.id, type: 'device-down', subject }),
    });
  }

  /** Runs `work` as this branch's next turn. */
  run<T>(work: () => Promise<T>): Promise<T> {
    return this.turns.run(this.branch.id, work);
  }

  /** Takes over from the database: queues, open tasks, who is expected back; then starts the flows. */
  async load(): Promise<void> {
    this.board.restore(await this.p.queues.load(this.branch.id));
    await this.tasks.load();
    const expected = this.health.returnDeadline(await this.p.deadlines.find(deviceReturnKey(this.branch.id)));
    if (expected) await this.p.scheduler.schedule(expected);
    this.greeting.start();
    await this.publishSummary();
  }

  /** Finishes the turns already queued; deadlines stay stored for the next owner. */
  async stop(): Promise<void> {
    this.greeting.stop();
    await this.turns.drain();
  }

  signal<K extends BranchSignal>(name: K, e: HubEventMap[K]): Promise<void> {
    return this.run(() => this.take(name, e));
  }

  deadline(d: Deadline): Promise<void> {
    return this.run(() => (d.kind === 'device-return' ? this.health.notBack(d) : this.tasks.deadline(d)));
  }

  createTask(req: CreateTask): Promise<Task> {
    return this.run(async () => (await this.tasks.create(req))!);
  }

  cancelTask(taskId: string, by: string): Promise<Task> {
    return this.run(() => this.tasks.cancel(taskId, by));
  }

  private async take<K extends BranchSignal>(name: K, event: HubEventMap[K]): Promise<void> {
    const e = event as HubEventMap[BranchSignal];
    switch (name) {
      case 'presence': {
        const p = e as HubEventMap['presence'];
        await this.p.devices.presence(p);
        if (p.online) await this.tasks.deviceOnline(p.deviceId);
        else await this.tasks.release(p.deviceId, `${p.deviceId} went offline`, false);
        return this.health.check(p.deviceId);
      }
      case 'deviceState': {
        const s = e as HubEventMap['deviceState'];
        await this.p.devices.state(s);
        if (s.status === 'fault' || s.status === 'charging') await this.tasks.release(s.deviceId, `${s.deviceId} reported ${s.status}`, true);
        if (s.status === 'idle') await this.tasks.dispatchWaiting();
        return this.health.check(s.deviceId);
      }
      case 'footfall':
        return this.greeting.footfall(e as HubEventMap['footfall']);
      case 'occupancy': {
        const o = e as HubEventMap['occupancy'];
        this.board.setOccupancy(o.zone, o.count);
        return this.publishSummary();
      }
      case 'queue': {
        const change = this.board.apply(e as HubEventMap['queue']);
        if (change) await this.p.queues.save(change);
        return this.publishSummary();
      }
      case 'ack':
        return this.ack(e as HubEventMap['ack']);
      case 'post':
        return; // staff posts feed the unattended-post flow (not built yet)
    }
  }

  private async ack(a: HubEventMap['ack']): Promise<void> {
    try {
      await this.tasks.ack(a);
    } catch (e) {
      if (!(e instanceof Rejection) || e.code === 'not-found' || e.code === 'conflict') throw e;
      await this.p.events.emit('signalRejected', { branchId: a.branchId, deviceId: a.deviceId, topic: a.topic, code: e.code, detail: e.detail });
    }
  }

  private raise(a: Omit<HubEventMap['alertRaise'], 'branchId'>): Promise<void> {
    return this.p.events.emit('alertRaise', { branchId: this.branch.id, ...a });
  }

  /** The retained summary screens show, published when what it says changed. */
  private async publishSummary(): Promise<void> {
    const summary = this.board.summary(isoOf(this.p.clock));
    const key = JSON.stringify({ ...summary, ts: undefined });
    if (key === this.lastSummary) return;
    this.lastSummary = key;
    await this.p.broker.publish(topics.summary(this.branch.id), summary, { qos: 1, retain: true });
    await this.p.events.emit('summary', { branchId: this.branch.id, summary });
  }
}
