import { Rejection } from '../contracts/rejection.js';
import type { Task } from '../contracts/views.js';
import { ackDeadlinePassed, ackKey, acked, created, dispatched, expired, expiryKey, givenBack } from './task-lifecycle.js';

const T0 = Date.parse('2026-11-23T01:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const decision = { rule: 'idle before busy', candidates: [], excluded: [] };

const newTask = (over: Partial<Parameters<typeof created>[0]> = {}) =>
  created({ id: 't1', branchId: 'b1', type: 'greet', params: { zone: 'entrance' }, priority: 7, origin: 'flow:greeting', pinnedDeviceId: null, zone: 'entrance', ttlSec: 60, ...over }, T0);
const sentTo = (deviceId: string, task: Task = newTask().task, now = T0) => dispatched(task, deviceId, decision, 5, now).task;

describe('task lifecycle (pure steps)', () => {
  it('a new task is `created`, stored with its cause and an expiry deadline', () => {
    const step = newTask();
    expect(step.task).toMatchObject({ state: 'created', deviceId: null, attempts: 0, expiresAt: iso(T0 + 60_000) });
    expect(step.task).not.toHaveProperty('ttlSec');
    expect(step.transitions).toEqual([{ taskId: 't1', fromState: null, toState: 'created', deviceId: null, cause: 'created by flow:greeting', at: iso(T0) }]);
    expect(step.deadlines.set).toEqual([{ key: expiryKey('t1'), branchId: 'b1', kind: 'task-expiry', dueAt: iso(T0 + 60_000), data: { taskId: 't1' } }]);
    expect(step.effects).toEqual([]);
  });

  it('dispatching arms the ack deadline and sends the command after storing', () => {
    const step = dispatched(newTask().task, 'robot-1', decision, 5, T0 + 10);
    expect(step.task).toMatchObject({ state: 'dispatched', deviceId: 'robot-1', attempts: 1, ackDeadline: iso(T0 + 5010) });
    expect(step.transitions[0]).toMatchObject({ fromState: 'created', toState: 'dispatched', deviceId: 'robot-1', cause: 'to robot-1 (attempt 1): idle before busy' });
    expect(step.deadlines.set).toEqual([expect.objectContaining({ key: ackKey('t1'), kind: 'task-ack', dueAt: iso(T0 + 5010) })]);
    expect(step.effects).toEqual([{ kind: 'command', deviceId: 'robot-1', cmd: { taskId: 't1', type: 'greet', params: { zone: 'entrance' }, priority: 7, expiresAt: iso(T0 + 60_000) } }]);
  });

  it('accepted clears the ack deadline; the same ack again, or an earlier one, changes nothing', () => {
    const step = acked(sentTo('robot-1'), { deviceId: 'robot-1', state: 'accepted' }, T0 + 100)!;
    expect(step.task).toMatchObject({ state: 'accepted', ackDeadline: null });
    expect(step.deadlines.clear).toEqual([ackKey('t1')]);
    expect(acked(step.task, { deviceId: 'robot-1', state: 'accepted' }, T0 + 200)).toBeNull();
    const started = acked(step.task, { deviceId: 'robot-1', state: 'started' }, T0 + 300)!.task;
    expect(acked(started, { deviceId: 'robot-1', state: 'accepted' }, T0 + 400)).toBeNull();
  });

  it('refuses acks from another device and steps that cannot follow', () => {
    const task = sentTo('robot-1');
    expect(() => acked(task, { deviceId: 'robot-2', state: 'accepted' }, T0)).toThrow(Rejection);
    const done = acked(task, { deviceId: 'robot-1', state: 'completed' }, T0)!;
    expect(done.task.state).toBe('completed');
    expect(done.deadlines.clear).toEqual([ackKey('t1'), expiryKey('t1')]);
    expect(done.effects).toEqual([{ kind: 'device-freed' }]);
    expect(() => acked({ ...task, state: 'started' }, { deviceId: 'robot-1', state: 'rejected' }, T0)).toThrow(/"rejected" cannot follow/);
  });

  it('a rejection moves the task on (cancel, then another device); a pinned task ends there', () => {
    const step = acked(sentTo('robot-1'), { deviceId: 'robot-1', state: 'rejected', reason: 'path blocked' }, T0)!;
    expect(step.task).toMatchObject({ state: 'created', deviceId: null, triedDevices: ['robot-1'] });
    expect(step.transitions[0]).toMatchObject({ deviceId: null, cause: 'robot-1 rejected: path blocked' });
    expect(step.effects).toEqual([{ kind: 'cancel', deviceId: 'robot-1', taskId: 't1' }, { kind: 'redispatch' }]);
    const pinned = sentTo('robot-1', newTask({ pinnedDeviceId: 'robot-1' }).task);
    expect(acked(pinned, { deviceId: 'robot-1', state: 'rejected' }, T0)!.task.state).toBe('rejected');
  });

  it('a failure ends the task and asks for an alert', () => {
    const step = acked(sentTo('robot-1'), { deviceId: 'robot-1', state: 'failed', reason: 'customer walked away' }, T0)!;
    expect(step.task.state).toBe('failed');
    expect(step.effects).toEqual([{ kind: 'alert', message: 'greet task failed on robot-1: customer walked away' }, { kind: 'device-freed' }]);
  });

  it('an ack deadline: no accept in time moves the task; work started before a restart waits only for an absent device', () => {
    const task = sentTo('robot-1');
    expect(ackDeadlinePassed(task, true, 5, T0 + 5000)!.transitions[0].cause).toBe('robot-1 did not accept within 5 s');
    const started = { ...task, state: 'started' as const };
    expect(ackDeadlinePassed(started, false, 5, T0)!.effects).toEqual([{ kind: 'owe-cancel', deviceId: 'robot-1', taskId: 't1' }, { kind: 'redispatch' }]);
    const back = ackDeadlinePassed(started, true, 5, T0)!;
    expect(back.transitions).toEqual([]);
    expect(back.task.ackDeadline).toBeNull();
  });

  it('a device gone offline is owed the cancel instead of being sent it', () => {
    const step = givenBack(sentTo('robot-1'), 'robot-1 went offline', { cancelDevice: true, online: false }, T0);
    expect(step.effects).toEqual([{ kind: 'owe-cancel', deviceId: 'robot-1', taskId: 't1' }, { kind: 'redispatch' }]);
  });

  it('expiry alerts only when nobody started the work', () => {
    const task = sentTo('robot-1');
    expect(expired(task, true, T0).effects).toEqual([{ kind: 'cancel', deviceId: 'robot-1', taskId: 't1' }, { kind: 'alert', message: 'greet task expired: no device did it' }]);
    expect(expired({ ...task, state: 'started' }, false, T0).effects).toEqual([]);
  });
});
