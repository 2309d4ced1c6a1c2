import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock/clock.js';
import type { BranchConfig } from '../config/config.schema.js';
import type { AckPayload } from '../contracts/payloads.js';
import { Rejection } from '../contracts/rejection.js';
import { DEFAULT_PRIORITY, OPEN_TASK_STATES, PROMOTION_PRIORITY, taskParams, type TaskType } from '../contracts/tasks.js';
import { parseOrReject } from '../contracts/validate.js';
import type { DeviceView, Task, TaskTransition } from '../contracts/views.js';
import type { DevicesService } from '../devices/devices.service.js';
import type { HubEvents } from '../hub-events.js';
import type { MetricsService } from '../observability/metrics.service.js';
import type { Deadline } from '../schedule/deadline.js';
import type { Scheduler } from '../schedule/scheduler.service.js';
import type { CommandPort } from './command-port.js';
import { canDo, selectDevice, unfit } from './selection.js';
import * as lifecycle from './task-lifecycle.js';
import type { TaskRepository } from './task.repository.js';

export interface CreateTask {
  type: TaskType;
  params: Record<string, unknown>;
  /** Who asks: `flow:greeting`, `manager:lobby`. */
  origin: string;
  priority?: number;
  /** Pin to this device: it is never moved to another. */
  deviceId?: string;
  /** Where the work is; preferred for selection, and binding for `display`. Defaults from the params. */
  zone?: string;
  ttlSec?: number;
  /** When the triggering signal arrived (hub clock, ms), for the dispatch latency metric. */
  triggeredAt?: number;
}

export interface TaskPorts {
  clock: Clock;
  repo: TaskRepository;
  commands: CommandPort;
  scheduler: Scheduler;
  devices: DevicesService;
  events: HubEvents;
  metrics: MetricsService;
  /** Told every stored step with transitions (the branch's analytics). */
  observe?: (task: Task, transitions: TaskTransition[]) => Promise<void>;
}

const DEFAULT_TTL_SEC: Record<TaskType, number> = { greet: 60, guide: 300, promote: 600, announce: 120, display: 300 };

/**
 * One branch's tasks: the open ones, who holds what, and the fairness of who got work last. Every change
 * is a step of the pure lifecycle (`task-lifecycle.ts`), stored whole before its effects (commands,
 * cancels, alerts) are carried out. Called only by the branch's owner, one event at a time.
 */
export class TaskBook {
  private readonly logger = new Logger(TaskBook.name);
  private readonly open = new Map<string, Task>();
  private lastAssigned = new Map<string, number>();

  constructor(
    private readonly branch: BranchConfig,
    private readonly p: TaskPorts,
  ) {}

  /** Open tasks as stored. Devices are all offline after a restart: those holding started work get one ack timeout to come back. */
  async load(open: Task[], lastDispatched: Map<string, number>): Promise<void> {
    this.lastAssigned = lastDispatched;
    for (const task of open) {
      this.open.set(task.id, task);
      if ((task.state === 'accepted' || task.state === 'started') && !task.ackDeadline) {
        await this.apply(lifecycle.awaitReturn(task, this.branch.rules.ackTimeoutSec, this.p.clock.now()));
      }
    }
  }

  /**
   * With `onlyIfFree`, the task is created only when a device can take it now (else null): a flow then does
   * something else. A branch that only observes (`autoDispatch: false`) creates no flow's task (null).
   */
  async create(req: CreateTask, opts: { onlyIfFree?: boolean } = {}): Promise<Task | null> {
    const params = this.validate(req);
    if (!this.branch.rules.autoDispatch && req.origin.startsWith('flow:')) return null;
    const zone = this.zoneOf(req, params);
    if (opts.onlyIfFree && !this.freeDevices(req.type).some((d) => req.type !== 'display' || !zone || d.zone === zone)) return null;
    const step = lifecycle.created(
      {
        id: randomUUID(),
        branchId: this.branch.id,
        type: req.type,
        params,
        priority: req.priority ?? DEFAULT_PRIORITY[req.type],
        origin: req.origin,
        pinnedDeviceId: req.deviceId ?? null,
        zone,
        ttlSec: req.ttlSec ?? DEFAULT_TTL_SEC[req.type],
      },
      this.p.clock.now(),
    );
    await this.dispatch(step.task.id, req.triggeredAt, step);
    return this.open.get(step.task.id) ?? (await this.p.repo.find(step.task.id));
  }

  async cancel(taskId: string, by: string): Promise<Task> {
    const task = this.open.get(taskId);
    if (!task) {
      const closed = await this.p.repo.find(taskId);
      if (!closed) throw new Rejection('not-found', `no task ${taskId}`);
      throw new Rejection('conflict', `task ${taskId} is already ${closed.state}`);
    }
    const step = lifecycle.finished(task, 'cancelled', `cancelled by ${by}`, { cancelDevice: true, online: this.p.commands.isOnline(task.deviceId ?? '') }, this.p.clock.now());
    await this.apply(step);
    return step.task;
  }

  /** An `ack` from a device (schema-checked). Unknown tasks and strangers are refused and change nothing. */
  async ack(ack: AckPayload & { deviceId: string }): Promise<void> {
    const task = this.open.get(ack.taskId);
    if (!task) {
      const closed = await this.p.repo.find(ack.taskId);
      if (!closed || closed.branchId !== this.branch.id) throw new Rejection('unknown-task', `no task ${ack.taskId} in branch ${this.branch.id}`);
      if (closed.deviceId !== ack.deviceId) throw new Rejection('not-task-holder', `task ${ack.taskId} is not held by ${ack.deviceId}`);
      throw new Rejection('invalid-transition', `task ${ack.taskId} is already ${closed.state}`);
    }
    const step = lifecycle.acked(task, ack, this.p.clock.now());
    if (step) await this.apply(step);
  }

  /** A task deadline of this branch is due. */
  async deadline(d: Deadline): Promise<void> {
    const task = this.open.get(String(d.data.taskId));
    if (!task) return;
    const now = this.p.clock.now();
    if (d.kind === 'task-expiry') return this.apply(lifecycle.expired(task, this.p.commands.isOnline(task.deviceId ?? ''), now));
    if (d.kind === 'task-ack' && task.ackDeadline === d.dueAt) {
      const step = lifecycle.ackDeadlinePassed(task, this.p.commands.isOnline(task.deviceId ?? ''), this.branch.rules.ackTimeoutSec, now);
      if (step) await this.apply(step);
    }
  }

  /** A device came back: it drops what moved on without it, and waiting tasks may go to it. */
  async deviceOnline(deviceId: string): Promise<void> {
    for (const taskId of await this.p.devices.takeOwedCancels(deviceId)) {
      if (this.open.get(taskId)?.deviceId !== deviceId) await this.p.commands.cancel(this.branch.id, deviceId, taskId);
    }
    await this.dispatchWaiting();
  }

  /** Offline, `fault` or `charging`: its work goes to another device (a faulty one is also told to stop). */
  async release(deviceId: string, cause: string, cancelDevice: boolean): Promise<void> {
    for (const task of [...this.open.values()].filter((t) => t.deviceId === deviceId && t.state !== 'created')) {
      await this.apply(lifecycle.givenBack(task, cause, { cancelDevice, online: this.p.commands.isOnline(deviceId) }, this.p.clock.now()));
    }
  }

  /** Devices free for a task of this type: able to take it now (see `unfit`) and holding nothing above promotion priority. */
  freeDevices(type: TaskType): DeviceView[] {
    return this.p.devices.list(this.branch.id).filter((d) => unfit(d, type) === null && this.held(d.id).every((t) => t.priority <= PROMOTION_PRIORITY));
  }

  openTasks(): Task[] {
    return [...this.open.values()];
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  /**
   * Sends the task to the best device, or leaves it `created` until one is available. A new task comes with its
   * `creation` step, not stored yet: it is stored with the step that follows, so the command waits for one commit.
   */
  private async dispatch(taskId: string, triggeredAt?: number, creation?: lifecycle.Step): Promise<void> {
    const task = creation?.task ?? this.open.get(taskId);
    if (!task || task.state !== 'created') return;
    const unstored = creation ? [creation] : [];
    const apply = (step: lifecycle.Step, at?: number) => this.apply(step, at, unstored.splice(0));
    const now = this.p.clock.now();
    if (task.attempts >= this.branch.rules.maxAttempts) return apply(lifecycle.exhausted(task, now));
    const choice = this.choose(task);
    if (!choice) {
      if (task.decision?.rule !== 'waiting') {
        await apply(lifecycle.waiting(task));
        this.logger.debug(`task ${task.id} (${task.type}) waits: no capable device available`);
      }
      return;
    }
    for (const victim of choice.preempt) {
      const held = this.open.get(victim.id);
      if (held) await apply(lifecycle.finished(held, 'cancelled', `pre-empted by ${task.type} task ${task.id}`, { cancelDevice: true, online: true }, now));
    }
    this.lastAssigned.set(choice.deviceId, now);
    await apply(lifecycle.dispatched(task, choice.deviceId, choice.decision, this.branch.rules.ackTimeoutSec, now), triggeredAt);
  }

  private choose(task: Pick<Task, 'type' | 'priority' | 'zone' | 'pinnedDeviceId' | 'triedDevices'> & { id?: string }) {
    const devices = this.p.devices.list(this.branch.id).filter((d) => task.type !== 'display' || !task.zone || d.zone === task.zone);
    const select = (tried: string[]) => selectDevice({ ...task, triedDevices: tried }, devices, (id) => this.held(id, task.id), (id) => this.lastAssigned.get(id) ?? 0);
    // Another device first; the one that already had it only when there is no other.
    return select(task.triedDevices) ?? (task.triedDevices.length ? select([]) : null);
  }

  /** Tasks still waiting for a device get another chance when one comes free. */
  async dispatchWaiting(): Promise<void> {
    const waiting = this.openTasks()
      .filter((t) => t.state === 'created')
      .sort((a, b) => b.priority - a.priority || a.createdAt.localeCompare(b.createdAt));
    for (const task of waiting) await this.dispatch(task.id);
  }

  /** Stores the step whole (after `earlier` steps not stored yet, in one transaction), then for each: tells the dashboard and carries out its effects in order. */
  private async apply(step: lifecycle.Step, triggeredAt?: number, earlier: lifecycle.Step[] = []): Promise<void> {
    await this.p.repo.save([...earlier, step]);
    for (const e of earlier) await this.carryOut(e);
    await this.carryOut(step, triggeredAt);
  }

  private async carryOut(step: lifecycle.Step, triggeredAt?: number): Promise<void> {
    const { task } = step;
    this.p.scheduler.applied(step.deadlines);
    if (OPEN_TASK_STATES.includes(task.state)) this.open.set(task.id, task);
    else this.open.delete(task.id);
    for (const t of step.transitions) {
      this.p.metrics.tasks.inc({ type: task.type, state: t.toState });
      // Each step for debugging; at the default level, one line per task: its outcome.
      const line = `${this.branch.id}: ${task.type} task ${task.id.slice(0, 8)} ${t.fromState ?? 'new'} → ${t.toState}${t.deviceId ? ` [${t.deviceId}]` : ''}: ${t.cause}`;
      if (OPEN_TASK_STATES.includes(t.toState)) this.logger.debug(line);
      else this.logger.log(line);
    }
    if (step.transitions.length) {
      await this.p.observe?.(task, step.transitions);
      await this.p.events.emit('taskChanged', { branchId: task.branchId, task: { ...task } });
    }
    for (const effect of step.effects) {
      switch (effect.kind) {
        case 'command':
          await this.p.commands.send(task.branchId, effect.deviceId, effect.cmd);
          if (triggeredAt !== undefined) this.p.metrics.dispatchLatency.observe({ type: task.type }, Math.max(0, this.p.clock.now() - triggeredAt) / 1000);
          break;
        case 'cancel':
          await this.p.commands.cancel(task.branchId, effect.deviceId, effect.taskId);
          break;
        case 'owe-cancel':
          await this.p.devices.oweCancel(effect.deviceId, effect.taskId);
          break;
        case 'alert':
          await this.p.events.emit('alertRaise', { branchId: task.branchId, type: 'task-failed', subject: task.id, message: effect.message, data: { taskId: task.id } });
          break;
        case 'redispatch':
          await this.dispatch(task.id);
          break;
        case 'device-freed':
          await this.dispatchWaiting();
          break;
      }
    }
  }

  // ---- helpers --------------------------------------------------------------------------------

  private held(deviceId: string, except?: string) {
    return [...this.open.values()].filter((t) => t.deviceId === deviceId && t.id !== except && t.state !== 'created');
  }

  private zoneOf(req: CreateTask, params: Record<string, unknown>): string | null {
    return req.zone ?? (typeof params.zone === 'string' ? params.zone : null);
  }

  private validate(req: CreateTask): Record<string, unknown> {
    const branch = this.branch;
    const params = parseOrReject(taskParams[req.type], req.params ?? {}, ['params']) as Record<string, unknown>;
    for (const key of ['zone', 'toZone'] as const) {
      const z = params[key];
      if (typeof z === 'string' && !branch.zones.some((bz) => bz.id === z)) throw new Rejection('invalid-payload', `params.${key}: branch ${branch.id} has no zone "${z}"`);
    }
    if (req.zone && !branch.zones.some((bz) => bz.id === req.zone)) throw new Rejection('invalid-payload', `zone: branch ${branch.id} has no zone "${req.zone}"`);
    if (typeof params.service === 'string' && !branch.services.some((s) => s.id === params.service)) {
      throw new Rejection('invalid-payload', `params.service: branch ${branch.id} has no service "${params.service}"`);
    }
    if (req.deviceId) {
      const device = this.p.devices.get(req.deviceId);
      if (!device || device.branchId !== branch.id) throw new Rejection('invalid-payload', `deviceId: branch ${branch.id} has no device "${req.deviceId}"`);
      if (!canDo(device, req.type)) throw new Rejection('invalid-payload', `deviceId: ${req.deviceId} (${device.kind}) cannot ${req.type}`);
    }
    return params;
  }
}
