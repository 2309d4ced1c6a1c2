import { isoAt } from '../clock/clock.js';
import type { AckState } from '../contracts/payloads.js';
import { Rejection } from '../contracts/rejection.js';
import type { TaskCommand, TaskState, TaskType } from '../contracts/tasks.js';
import type { Decision, Task, TaskTransition } from '../contracts/views.js';
import type { DeadlineChanges } from '../schedule/deadline.js';

/**
 * The task lifecycle of contract section 4 as pure steps: each takes a task and what happened, and returns
 * the task's next state, the transitions to store (with their cause), the deadlines to set or clear, and
 * the effects to carry out once all of that is stored. No I/O here: `TaskBook` stores and carries out.
 */

export type TaskEffect =
  | { kind: 'command'; deviceId: string; cmd: TaskCommand }
  /** Tell a device to drop the task. */
  | { kind: 'cancel'; deviceId: string; taskId: string }
  /** The device is offline: tell it to drop the task when it is back. */
  | { kind: 'owe-cancel'; deviceId: string; taskId: string }
  | { kind: 'alert'; message: string }
  /** Find a device for this task again. */
  | { kind: 'redispatch' }
  /** A device came free: tasks waiting for one may now get it. */
  | { kind: 'device-freed' };

export interface Step {
  task: Task;
  transitions: TaskTransition[];
  deadlines: DeadlineChanges;
  effects: TaskEffect[];
}

export const ackKey = (taskId: string) => `task:${taskId}:ack`;
export const expiryKey = (taskId: string) => `task:${taskId}:expiry`;

const iso = isoAt;
const none = (): DeadlineChanges => ({ set: [], clear: [] });

export interface NewTask {
  id: string;
  branchId: string;
  type: TaskType;
  params: Record<string, unknown>;
  priority: number;
  origin: string;
  pinnedDeviceId: string | null;
  zone: string | null;
  ttlSec: number;
}

export function created(req: NewTask, now: number): Step {
  const task: Task = {
    ...req,
    state: 'created',
    deviceId: null,
    attempts: 0,
    triedDevices: [],
    createdAt: iso(now),
    updatedAt: iso(now),
    expiresAt: iso(now + req.ttlSec * 1000),
    ackDeadline: null,
    decision: null,
  };
  delete (task as Partial<NewTask>).ttlSec;
  const expiry = { key: expiryKey(task.id), branchId: task.branchId, kind: 'task-expiry' as const, dueAt: task.expiresAt, data: { taskId: task.id } };
  return { task, transitions: [transition(task, null, `created by ${req.origin}`, now)], deadlines: { set: [expiry], clear: [] }, effects: [] };
}

/** Sent to the chosen device; it has `ackTimeoutSec` to accept. */
export function dispatched(task: Task, deviceId: string, decision: Decision, ackTimeoutSec: number, now: number): Step {
  const next: Task = { ...task, deviceId, attempts: task.attempts + 1, decision, ackDeadline: iso(now + ackTimeoutSec * 1000) };
  const step = move(next, 'dispatched', `to ${deviceId} (attempt ${next.attempts}): ${decision.rule}`, now);
  step.deadlines.set.push({ key: ackKey(task.id), branchId: task.branchId, kind: 'task-ack', dueAt: next.ackDeadline!, data: { taskId: task.id } });
  const cmd: TaskCommand = { taskId: task.id, type: task.type, params: task.params, priority: task.priority, expiresAt: task.expiresAt };
  step.effects.push({ kind: 'command', deviceId, cmd });
  return step;
}

/** No capable device is available: the task waits in `created` (its decision says so). */
export function waiting(task: Task): Step {
  return { task: { ...task, decision: { rule: 'waiting', candidates: [], excluded: [] } }, transitions: [], deadlines: none(), effects: [] };
}

export function exhausted(task: Task, now: number): Step {
  const step = finished(task, 'failed', `no device completed it after ${task.attempts} attempts`, { cancelDevice: false, online: false }, now);
  step.effects.push({ kind: 'alert', message: `${task.type} task failed: no device accepted it after ${task.attempts} attempts` });
  return step;
}

const NEXT_ON_ACK: Record<AckState, TaskState[]> = {
  accepted: ['dispatched'],
  started: ['dispatched', 'accepted'],
  completed: ['dispatched', 'accepted', 'started'],
  rejected: ['dispatched', 'accepted'],
  failed: ['dispatched', 'accepted', 'started'],
};
const PROGRESS: TaskState[] = ['dispatched', 'accepted', 'started'];

/** An `ack` from the device holding the task. Null: a redelivery of a step already taken. Throws a Rejection for what cannot follow. */
export function acked(task: Task, ack: { deviceId: string; state: AckState; reason?: string }, now: number): Step | null {
  if (task.deviceId !== ack.deviceId) throw new Rejection('not-task-holder', `task ${task.id} is not held by ${ack.deviceId}`);
  // The same or an earlier step again (`accepted` once `started`): a QoS 1 redelivery.
  if (ack.state === task.state || (PROGRESS.includes(ack.state as TaskState) && PROGRESS.indexOf(ack.state as TaskState) < PROGRESS.indexOf(task.state))) return null;
  if (!NEXT_ON_ACK[ack.state].includes(task.state)) throw new Rejection('invalid-transition', `task ${task.id} is ${task.state}; "${ack.state}" cannot follow`);
  const said = `${ack.deviceId} ${ack.state}${ack.reason ? `: ${ack.reason}` : ''}`;
  switch (ack.state) {
    case 'accepted':
    case 'started': {
      const step = move({ ...task, ackDeadline: null }, ack.state, said, now);
      step.deadlines.clear.push(ackKey(task.id));
      return step;
    }
    case 'completed':
      return withEffect(finished(task, 'completed', said, { cancelDevice: false, online: true }, now), { kind: 'device-freed' });
    case 'failed': {
      const step = finished(task, 'failed', said, { cancelDevice: false, online: true }, now);
      step.effects.push({ kind: 'alert', message: `${task.type} task failed on ${ack.deviceId}${ack.reason ? `: ${ack.reason}` : ''}` }, { kind: 'device-freed' });
      return step;
    }
    case 'rejected':
      // A pinned task is the manager's choice of device: it is not moved to another.
      if (task.pinnedDeviceId) return finished(task, 'rejected', said, { cancelDevice: true, online: true }, now);
      return givenBack(task, said, { cancelDevice: true, online: true }, now);
  }
}

/** The device lost the task (no ack in time, rejected, went away): it is told to stop, and another is looked for. */
export function givenBack(task: Task, cause: string, device: { cancelDevice: boolean; online: boolean }, now: number): Step {
  const deviceId = task.deviceId!;
  const next: Task = { ...task, deviceId: null, ackDeadline: null, triedDevices: [...new Set([...task.triedDevices, deviceId])] };
  const step = move(next, 'created', cause, now);
  step.deadlines.clear.push(ackKey(task.id));
  if (!device.online) step.effects.push({ kind: 'owe-cancel', deviceId, taskId: task.id });
  else if (device.cancelDevice) step.effects.push({ kind: 'cancel', deviceId, taskId: task.id });
  step.effects.push({ kind: 'redispatch' });
  return step;
}

/** A final state. With `cancelDevice`, the device holding it (if online) is told to drop it. */
export function finished(task: Task, state: TaskState, cause: string, device: { cancelDevice: boolean; online: boolean }, now: number): Step {
  const step = move({ ...task, ackDeadline: null }, state, cause, now);
  step.deadlines.clear.push(ackKey(task.id), expiryKey(task.id));
  if (device.cancelDevice && device.online && task.deviceId && task.state !== 'created') step.effects.push({ kind: 'cancel', deviceId: task.deviceId, taskId: task.id });
  return step;
}

/** The ack deadline passed. Null: nothing to do (the task moved on). */
export function ackDeadlinePassed(task: Task, online: boolean, ackTimeoutSec: number, now: number): Step | null {
  if (!task.deviceId) return null;
  if (task.state === 'dispatched') return givenBack(task, `${task.deviceId} did not accept within ${ackTimeoutSec} s`, { cancelDevice: true, online }, now);
  // accepted/started across a restart: the device had one ack timeout to come back.
  if (!online) return givenBack(task, `${task.deviceId} did not come back after the hub restarted`, { cancelDevice: false, online }, now);
  return { task: { ...task, ackDeadline: null }, transitions: [], deadlines: { set: [], clear: [ackKey(task.id)] }, effects: [] };
}

/** After a restart every device is offline: one holding accepted or started work gets one ack timeout to come back. */
export function awaitReturn(task: Task, ackTimeoutSec: number, now: number): Step {
  const next = { ...task, ackDeadline: iso(now + ackTimeoutSec * 1000) };
  const ack = { key: ackKey(task.id), branchId: task.branchId, kind: 'task-ack' as const, dueAt: next.ackDeadline, data: { taskId: task.id } };
  return { task: next, transitions: [], deadlines: { set: [ack], clear: [] }, effects: [] };
}

export function expired(task: Task, online: boolean, now: number): Step {
  const step = finished(task, 'expired', `not completed by ${task.expiresAt}`, { cancelDevice: true, online }, now);
  // Nobody even started it: the manager should know the work was not done.
  if (task.state !== 'started') step.effects.push({ kind: 'alert', message: `${task.type} task expired: no device did it` });
  return step;
}

function move(task: Task, state: TaskState, cause: string, now: number): Step {
  const from = task.state;
  const next: Task = { ...task, state, updatedAt: iso(now) };
  return { task: next, transitions: [transition(next, from, cause, now)], deadlines: none(), effects: [] };
}

function transition(task: Task, from: TaskState | null, cause: string, now: number): TaskTransition {
  return { taskId: task.id, fromState: from, toState: task.state, deviceId: task.deviceId, cause: cause.slice(0, 500), at: iso(now) };
}

function withEffect(step: Step, effect: TaskEffect): Step {
  step.effects.push(effect);
  return step;
}
