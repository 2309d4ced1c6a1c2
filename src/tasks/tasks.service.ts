import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { In, type Repository } from 'typeorm';
import { AlertsService } from '../alerts/alerts.service.js';
import { BrokerService } from '../broker/broker.service.js';
import { HUB_CONFIG } from '../config/config.module.js';
import type { BranchConfig, HubConfig } from '../config/config.schema.js';
import type { AckState } from '../contracts/payloads.js';
import { Rejection } from '../contracts/rejection.js';
import {
  DEFAULT_PRIORITY,
  OPEN_TASK_STATES,
  PROMOTION_PRIORITY,
  taskParams,
  type CancelCommand,
  type TaskCommand,
  type TaskState,
  type TaskType,
} from '../contracts/tasks.js';
import { topics } from '../contracts/topics.js';
import { parseOrReject } from '../contracts/validate.js';
import type { DeviceView } from '../devices/device-view.js';
import { DevicesService } from '../devices/devices.service.js';
import { HubEvents, type HubEventMap } from '../hub-events.js';
import { KeyedQueue } from '../keyed-queue.js';
import { MetricsService } from '../observability/metrics.service.js';
import { TaskRecord, TaskTransitionRecord } from '../persistence/entities.js';
import { canDo, selectDevice, unfit } from './selection.js';

export interface CreateTask {
  branchId: string;
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
  /** When the triggering signal arrived, for the dispatch latency metric. */
  triggeredAt?: Date;
}

export type TaskView = TaskRecord & { history?: TaskTransitionRecord[] };

const DEFAULT_TTL_SEC: Record<TaskType, number> = { greet: 60, guide: 300, promote: 600, announce: 120, display: 300 };
const NEXT_ON_ACK: Partial<Record<AckState, TaskState[]>> = {
  accepted: ['dispatched'],
  started: ['dispatched', 'accepted'],
  completed: ['dispatched', 'accepted', 'started'],
  rejected: ['dispatched', 'accepted'],
  failed: ['dispatched', 'accepted', 'started'],
};

/**
 * The task lifecycle of contract section 4: pick a device, send `cmd` (QoS 1), follow its acks, time
 * out, cancel and re-dispatch, give up after `maxAttempts`. Every transition is stored with its time and
 * cause before the device hears of it; deadlines are stored too, so a restart still honours them.
 * Work on one branch is serialized, so acks, timeouts and presence changes never interleave.
 */
@Injectable()
export class TasksService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(TasksService.name);
  private readonly branches: Map<string, BranchConfig>;
  private readonly open = new Map<string, TaskRecord>();
  private readonly ackTimers = new Map<string, NodeJS.Timeout>();
  private readonly expiryTimers = new Map<string, NodeJS.Timeout>();
  private readonly lastAssigned = new Map<string, number>();
  /** Tasks taken from a device while it was offline, to cancel on it when it reconnects. */
  private readonly movedWhileAway = new Map<string, Set<string>>();
  private readonly branchQueue = new KeyedQueue();
  private closing = false;

  constructor(
    @Inject(HUB_CONFIG) config: HubConfig,
    @InjectRepository(TaskRecord) private readonly tasks: Repository<TaskRecord>,
    @InjectRepository(TaskTransitionRecord) private readonly transitions: Repository<TaskTransitionRecord>,
    private readonly devices: DevicesService,
    private readonly broker: BrokerService,
    private readonly alerts: AlertsService,
    private readonly events: HubEvents,
    private readonly metrics: MetricsService,
  ) {
    this.branches = new Map(config.branches.map((b) => [b.id, b]));
    events.on('presence', (e) => this.onPresence(e));
    events.on('deviceState', (e) => this.onDeviceState(e));
  }

  /** Re-arms what was pending before the restart. Devices are all offline now: those holding work get one ack timeout to come back. */
  async onApplicationBootstrap(): Promise<void> {
    for (const task of await this.tasks.findBy({ state: In([...OPEN_TASK_STATES]) })) {
      if (!this.branches.has(task.branchId)) continue;
      this.open.set(task.id, task);
      if ((task.state === 'accepted' || task.state === 'started') && !task.ackDeadline) {
        task.ackDeadline = this.deadline(task.branchId);
        await this.tasks.save(task);
      }
      this.arm(task);
    }
  }

  /** Deadlines stay in the database for the next start; work already running is finished first. */
  async onModuleDestroy(): Promise<void> {
    this.closing = true;
    for (const t of [...this.ackTimers.values(), ...this.expiryTimers.values()]) clearTimeout(t);
    await this.branchQueue.drain();
  }

  // ---- commands -------------------------------------------------------------------------------

  async create(req: CreateTask): Promise<TaskView> {
    const branch = this.branches.get(req.branchId);
    if (!branch) throw new Rejection('not-found', `no branch ${req.branchId}`);
    const params = this.validate(branch, req);
    return this.serial(branch.id, async () => {
      const now = new Date();
      const task: TaskRecord = {
        id: randomUUID(),
        branchId: branch.id,
        type: req.type,
        params,
        priority: req.priority ?? DEFAULT_PRIORITY[req.type],
        state: 'created',
        origin: req.origin,
        pinnedDeviceId: req.deviceId ?? null,
        deviceId: null,
        attempts: 0,
        triedDevices: [],
        zone: req.zone ?? (typeof params.zone === 'string' ? params.zone : null),
        createdAt: now.toISOString(),
        updatedAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + (req.ttlSec ?? DEFAULT_TTL_SEC[req.type]) * 1000).toISOString(),
        ackDeadline: null,
        decision: null,
      };
      this.open.set(task.id, task);
      await this.record(task, null, `created by ${req.origin}`, 'insert');
      this.armExpiry(task);
      await this.dispatch(task, req.triggeredAt ?? now);
      return this.view(task);
    });
  }

  async cancel(taskId: string, by: string): Promise<TaskView> {
    const known = this.open.get(taskId) ?? (await this.tasks.findOneBy({ id: taskId }));
    if (!known) throw new Rejection('not-found', `no task ${taskId}`);
    return this.serial(known.branchId, async () => {
      const task = this.open.get(taskId);
      if (!task) throw new Rejection('conflict', `task ${taskId} is already ${known.state}`);
      await this.finish(task, 'cancelled', `cancelled by ${by}`, { cancelDevice: true });
      return this.view(task);
    });
  }

  /** An `ack` from a device (already schema-checked). Unknown tasks and strangers are refused and change nothing. */
  onAck(ack: HubEventMap['ack']): Promise<void> {
    return this.serial(ack.branchId, async () => {
      const task = this.open.get(ack.taskId);
      if (!task) {
        const closed = await this.tasks.findOneBy({ id: ack.taskId, branchId: ack.branchId });
        if (!closed) throw new Rejection('unknown-task', `no task ${ack.taskId} in branch ${ack.branchId}`);
        if (closed.deviceId !== ack.deviceId) throw new Rejection('not-task-holder', `task ${ack.taskId} is not held by ${ack.deviceId}`);
        throw new Rejection('invalid-transition', `task ${ack.taskId} is already ${closed.state}`);
      }
      if (task.deviceId !== ack.deviceId) throw new Rejection('not-task-holder', `task ${ack.taskId} is not held by ${ack.deviceId}`);
      // The same or an earlier step again (`accepted` once `started`): a QoS 1 redelivery.
      const order = ['dispatched', 'accepted', 'started'];
      if (ack.state === task.state || (order.includes(ack.state) && order.indexOf(ack.state) < order.indexOf(task.state))) return;
      if (!NEXT_ON_ACK[ack.state]?.includes(task.state as TaskState)) {
        throw new Rejection('invalid-transition', `task ${ack.taskId} is ${task.state}; "${ack.state}" cannot follow`);
      }
      const said = `${ack.deviceId} ${ack.state}${ack.reason ? `: ${ack.reason}` : ''}`;
      switch (ack.state) {
        case 'accepted':
        case 'started':
          this.disarmAck(task);
          task.ackDeadline = null;
          return this.move(task, ack.state, said);
        case 'completed':
          await this.finish(task, 'completed', said);
          return this.dispatchWaiting(task.branchId);
        case 'failed':
          await this.finish(task, 'failed', said);
          await this.alerts.raise(task.branchId, 'task-failed', task.id, `${task.type} task failed on ${ack.deviceId}${ack.reason ? `: ${ack.reason}` : ''}`, { taskId: task.id });
          return this.dispatchWaiting(task.branchId);
        case 'rejected':
          if (task.pinnedDeviceId) return this.finish(task, 'rejected', said, { cancelDevice: true });
          return this.giveBack(task, said, true);
      }
    });
  }

  // ---- queries --------------------------------------------------------------------------------

  /** Devices free for a task of this type: able to take it now (see `unfit`) and holding nothing above promotion priority. */
  freeDevices(branchId: string, type: TaskType): DeviceView[] {
    return this.devices
      .list(branchId)
      .filter((d) => unfit(d, type) === null && this.held(d.id).every((t) => t.priority <= PROMOTION_PRIORITY));
  }

  openTasks(branchId: string): TaskRecord[] {
    return [...this.open.values()].filter((t) => t.branchId === branchId);
  }

  async list(branchId: string, state?: string): Promise<TaskView[]> {
    const tasks = await this.tasks.find({ where: { branchId, ...(state ? { state } : {}) }, order: { createdAt: 'DESC' }, take: 200 });
    const history = await this.transitions.find({ where: { taskId: In(tasks.map((t) => t.id)) }, order: { seq: 'ASC' } });
    return tasks.map((t) => ({ ...t, history: history.filter((h) => h.taskId === t.id) }));
  }

  async get(taskId: string): Promise<TaskView | null> {
    const task = await this.tasks.findOneBy({ id: taskId });
    if (!task) return null;
    return { ...task, history: await this.transitions.find({ where: { taskId }, order: { seq: 'ASC' } }) };
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  /** Sends the task to the best device, or leaves it `created` until one is available. */
  private async dispatch(task: TaskRecord, triggeredAt?: Date): Promise<void> {
    const rules = this.branches.get(task.branchId)!.rules;
    if (task.attempts >= rules.maxAttempts) {
      await this.finish(task, 'failed', `no device completed it after ${task.attempts} attempts`);
      await this.alerts.raise(task.branchId, 'task-failed', task.id, `${task.type} task failed: no device accepted it after ${task.attempts} attempts`, { taskId: task.id });
      return;
    }
    const devices = this.devices.list(task.branchId).filter((d) => task.type !== 'display' || !task.zone || d.zone === task.zone);
    const select = (tried: string[]) =>
      selectDevice({ ...task, type: task.type as TaskType, triedDevices: tried }, devices, (id) => this.held(id, task.id), (id) => this.lastAssigned.get(id) ?? 0);
    // Another device first; the one that already had it only when there is no other.
    const choice = select(task.triedDevices) ?? (task.triedDevices.length ? select([]) : null);
    if (!choice) {
      if (!task.decision || (task.decision as { rule?: string }).rule !== 'waiting') {
        task.decision = { rule: 'waiting', candidates: [], excluded: [] };
        await this.tasks.save(task);
        this.logger.log(`task ${task.id} (${task.type}) waits: no capable device available`);
      }
      return;
    }
    for (const victim of choice.preempt) {
      const held = this.open.get(victim.id);
      if (held) await this.finish(held, 'cancelled', `pre-empted by ${task.type} task ${task.id}`, { cancelDevice: true });
    }
    task.deviceId = choice.deviceId;
    task.attempts += 1;
    task.ackDeadline = this.deadline(task.branchId);
    task.decision = choice.decision;
    this.lastAssigned.set(choice.deviceId, Date.now());
    await this.move(task, 'dispatched', `to ${choice.deviceId} (attempt ${task.attempts}): ${choice.decision.rule}`);
    const cmd: TaskCommand = { taskId: task.id, type: task.type as TaskType, params: task.params, priority: task.priority, expiresAt: task.expiresAt };
    await this.broker.publish(topics.device(task.branchId, choice.deviceId, 'cmd'), cmd, { qos: 1 });
    if (triggeredAt) this.metrics.dispatchLatency.observe({ type: task.type }, (Date.now() - triggeredAt.getTime()) / 1000);
    this.arm(task);
  }

  /**
   * A device that went away may still be working on what it held: when it is back, it hears `cancel` for
   * each task that was moved meanwhile (unless the task came back to it).
   */
  private async cancelMovedWhileAway(branchId: string, deviceId: string): Promise<void> {
    const moved = this.movedWhileAway.get(deviceId);
    this.movedWhileAway.delete(deviceId);
    for (const taskId of moved ?? []) if (this.open.get(taskId)?.deviceId !== deviceId) await this.sendCancel(branchId, deviceId, taskId);
  }

  /** The device lost the task (no ack in time, rejected, went away): tell it to stop, and find another. */
  private async giveBack(task: TaskRecord, cause: string, cancelDevice: boolean): Promise<void> {
    const deviceId = task.deviceId!;
    this.disarmAck(task);
    if (cancelDevice) await this.sendCancel(task.branchId, deviceId, task.id);
    if (!this.broker.isOnline(deviceId)) this.movedWhileAway.set(deviceId, new Set([...(this.movedWhileAway.get(deviceId) ?? []), task.id]));
    task.triedDevices = [...new Set([...task.triedDevices, deviceId])];
    task.deviceId = null;
    task.ackDeadline = null;
    await this.move(task, 'created', cause);
    await this.dispatch(task);
  }

  private async finish(task: TaskRecord, state: TaskState, cause: string, opts: { cancelDevice?: boolean } = {}): Promise<void> {
    this.disarmAck(task);
    clearTimeout(this.expiryTimers.get(task.id));
    this.expiryTimers.delete(task.id);
    if (opts.cancelDevice && task.deviceId && task.state !== 'created') await this.sendCancel(task.branchId, task.deviceId, task.id);
    this.open.delete(task.id);
    task.ackDeadline = null;
    await this.move(task, state, cause);
  }

  private async move(task: TaskRecord, state: TaskState, cause: string): Promise<void> {
    const from = task.state;
    task.state = state;
    task.updatedAt = new Date().toISOString();
    await this.record(task, from, cause, 'update');
  }

  /**
   * Stores the transition, then the task: whoever reads a task's state finds its cause in the history.
   * (Not a transaction: TypeORM's SQLite driver shares one connection, so concurrent transactions collide.)
   */
  private async record(task: TaskRecord, from: string | null, cause: string, write: 'insert' | 'update'): Promise<void> {
    await this.transitions.insert({ taskId: task.id, fromState: from, toState: task.state, deviceId: task.deviceId, cause: cause.slice(0, 500), at: task.updatedAt });
    if (write === 'insert') await this.tasks.insert(task as never); // typeorm's insert typing cannot see through simple-json columns
    else await this.tasks.save(task);
    this.metrics.tasks.inc({ type: task.type, state: task.state });
    this.logger.log(`task ${task.id} ${task.type} ${from ?? 'new'} → ${task.state}${task.deviceId ? ` [${task.deviceId}]` : ''}: ${cause}`);
    await this.events.emit('taskChanged', { branchId: task.branchId, task: this.view(task) });
  }

  private sendCancel(branchId: string, deviceId: string, taskId: string): Promise<void> {
    if (!this.broker.isOnline(deviceId)) return Promise.resolve();
    const cmd: CancelCommand = { taskId, type: 'cancel' };
    return this.broker.publish(topics.device(branchId, deviceId, 'cmd'), cmd, { qos: 1 });
  }

  /** Tasks still waiting for a device get another chance when one comes free. */
  private async dispatchWaiting(branchId: string): Promise<void> {
    const waiting = this.openTasks(branchId)
      .filter((t) => t.state === 'created')
      .sort((a, b) => b.priority - a.priority || a.createdAt.localeCompare(b.createdAt));
    for (const task of waiting) if (this.open.has(task.id)) await this.dispatch(task);
  }

  private async onPresence(e: HubEventMap['presence']): Promise<void> {
    if (e.online) {
      return this.serial(e.branchId, async () => {
        await this.cancelMovedWhileAway(e.branchId, e.deviceId);
        await this.dispatchWaiting(e.branchId);
      });
    }
    return this.serial(e.branchId, () => this.releaseDevice(e.deviceId, `${e.deviceId} went offline`));
  }

  private async onDeviceState(e: HubEventMap['deviceState']): Promise<void> {
    if (e.status === 'fault' || e.status === 'charging') {
      return this.serial(e.branchId, () => this.releaseDevice(e.deviceId, `${e.deviceId} reported ${e.status}`, true));
    }
    if (e.status === 'idle') return this.serial(e.branchId, () => this.dispatchWaiting(e.branchId));
  }

  private async releaseDevice(deviceId: string, cause: string, cancelDevice = false): Promise<void> {
    for (const task of [...this.open.values()].filter((t) => t.deviceId === deviceId && t.state !== 'created')) {
      await this.giveBack(task, cause, cancelDevice);
    }
  }

  // ---- timers ---------------------------------------------------------------------------------

  private arm(task: TaskRecord): void {
    this.armExpiry(task);
    if (!task.ackDeadline) return;
    this.disarmAck(task);
    this.ackTimers.set(task.id, this.at(task.ackDeadline, () => this.serial(task.branchId, () => this.ackDeadlinePassed(task.id))));
  }

  private armExpiry(task: TaskRecord): void {
    if (this.expiryTimers.has(task.id)) return;
    this.expiryTimers.set(
      task.id,
      this.at(task.expiresAt, () =>
        this.serial(task.branchId, async () => {
          const open = this.open.get(task.id);
          if (!open) return;
          const undone = open.state !== 'started';
          await this.finish(open, 'expired', `not completed by ${open.expiresAt}`, { cancelDevice: true });
          // Nobody even started it: the manager should know the work was not done.
          if (undone) await this.alerts.raise(open.branchId, 'task-failed', open.id, `${open.type} task expired: no device did it`, { taskId: open.id });
        }),
      ),
    );
  }

  private async ackDeadlinePassed(taskId: string): Promise<void> {
    const task = this.open.get(taskId);
    if (!task || !task.deviceId) return;
    const rules = this.branches.get(task.branchId)!.rules;
    if (task.state === 'dispatched') return this.giveBack(task, `${task.deviceId} did not accept within ${rules.ackTimeoutSec} s`, true);
    // accepted/started across a restart: the device had one ack timeout to come back.
    if (!this.broker.isOnline(task.deviceId)) return this.giveBack(task, `${task.deviceId} did not come back after the hub restarted`, false);
    task.ackDeadline = null;
    await this.tasks.save(task);
  }

  private disarmAck(task: TaskRecord): void {
    clearTimeout(this.ackTimers.get(task.id));
    this.ackTimers.delete(task.id);
  }

  private at(iso: string, fn: () => Promise<unknown>): NodeJS.Timeout {
    const timer = setTimeout(() => {
      if (!this.closing) fn().catch((e) => this.logger.error(`timer: ${(e as Error).stack}`));
    }, Math.max(0, Date.parse(iso) - Date.now()));
    timer.unref();
    return timer;
  }

  private deadline(branchId: string): string {
    return new Date(Date.now() + this.branches.get(branchId)!.rules.ackTimeoutSec * 1000).toISOString();
  }

  // ---- helpers --------------------------------------------------------------------------------

  private held(deviceId: string, except?: string) {
    return [...this.open.values()].filter((t) => t.deviceId === deviceId && t.id !== except && t.state !== 'created');
  }

  private validate(branch: BranchConfig, req: CreateTask): Record<string, unknown> {
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
      const device = this.devices.get(req.deviceId);
      if (!device || device.branchId !== branch.id) throw new Rejection('invalid-payload', `deviceId: branch ${branch.id} has no device "${req.deviceId}"`);
      if (!canDo(device, req.type)) throw new Rejection('invalid-payload', `deviceId: ${req.deviceId} (${device.kind}) cannot ${req.type}`);
    }
    return params;
  }

  private view(task: TaskRecord): TaskView {
    return { ...task };
  }

  /** Runs `work` after everything queued before it for the same branch. */
  private serial<T>(branchId: string, work: () => Promise<T>): Promise<T> {
    return this.branchQueue.run(branchId, work);
  }
}
