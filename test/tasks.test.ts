import type { Fleet } from '../device-sims/fleet.js';
import { HubEvents } from '../src/hub-events.js';
import { TaskRepository } from '../src/tasks/task.repository.js';
import { eventually, startTestHub, testConfig, type TestHub } from './support/hub.js';
import { FAST, fleetOn, getTask, taskReaches, workTakes, type Task } from './support/fleet.js';

const isCmd = (taskId: string, type?: string) => (m: { topic: string; payload: Record<string, unknown> }) =>
  m.topic.endsWith('/cmd') && m.payload.taskId === taskId && (type === undefined || m.payload.type === type);

describe('task lifecycle on the real broker with simulated devices', () => {
  let hub: TestHub;
  let fleet: Fleet | undefined;

  afterEach(async () => {
    await fleet?.disconnect();
    fleet = undefined;
    await hub?.close();
  });

  const dispatch = async (body: object) => {
    const res = await hub.api<Task>('POST', '/api/branches/br-1/tasks', body);
    expect(res.status).toBe(201);
    return res.body;
  };

  it('stores a new task and its dispatch in one transaction before the command, and still tells each step', async () => {
    hub = await startTestHub();
    fleet = await fleetOn(hub, { only: ['robot-1'] });
    const saves: string[][] = [];
    const repo = hub.running.app.get(TaskRepository);
    const save = repo.save.bind(repo);
    repo.save = (steps) => (saves.push(steps.flatMap((s) => s.transitions.map((t) => t.toState))), save(steps));
    const told: string[] = [];
    hub.running.app.get(HubEvents).on('taskChanged', (e) => void told.push(e.task.state));
    const task = await dispatch({ type: 'announce', params: { text: 'hi', lang: 'en' } });
    await fleet.workers.get('robot-1')!.waitFor(isCmd(task.id, 'announce'));
    expect(saves[0]).toEqual(['created', 'dispatched']);
    expect(told.slice(0, 2)).toEqual(['created', 'dispatched']);
  });

  it('times out an ack, cancels on the first robot and re-dispatches the same task to another', async () => {
    hub = await startTestHub();
    fleet = await fleetOn(hub, { only: ['robot-1', 'robot-2'], profiles: { 'robot-1': { mute: true } } });
    const [r1, r2] = [fleet.workers.get('robot-1')!, fleet.workers.get('robot-2')!];
    const task = await dispatch({ type: 'greet', params: { zone: 'entrance' } });
    expect(task).toMatchObject({ state: 'dispatched', deviceId: 'robot-1' });
    await r1.waitFor(isCmd(task.id, 'greet'));
    const t0 = hub.running.clock.now();
    const cancel = await r1.waitFor(isCmd(task.id, 'cancel'), { timeoutMs: 3000 });
    const again = await r2.waitFor(isCmd(task.id, 'greet'), { timeoutMs: 3000 });
    expect(cancel.at - t0).toBeGreaterThan(700); // ackTimeoutSec is 1 in the test branch
    expect(again.payload).toMatchObject({ taskId: task.id, type: 'greet', params: { zone: 'entrance' } });
    const done = await taskReaches(hub, task.id, 'completed');
    expect(done).toMatchObject({ deviceId: 'robot-2', attempts: 2 });
    expect(done.history.map((h) => `${h.toState}@${h.deviceId ?? '-'}`)).toEqual([
      'created@-',
      'dispatched@robot-1',
      'created@-',
      'dispatched@robot-2',
      'accepted@robot-2',
      'started@robot-2',
      'completed@robot-2',
    ]);
    expect(done.history[2].cause).toBe('robot-1 did not accept within 1 s');
    expect(done.decision?.excluded).toContainEqual({ deviceId: 'robot-1', reason: 'already tried for this task' });
  });

  it('re-dispatches at once when the device goes offline mid-task', async () => {
    hub = await startTestHub();
    fleet = await fleetOn(hub, { only: ['robot-1', 'robot-2'], profiles: { 'robot-1': workTakes(60000) } });
    const [r1, r2] = [fleet.workers.get('robot-1')!, fleet.workers.get('robot-2')!];
    const task = await dispatch({ type: 'guide', params: { toZone: 'self-service', service: 'card' }, zone: undefined });
    await taskReaches(hub, task.id, 'started');
    expect((await getTask(hub, task.id)).deviceId).toBe('robot-1');
    r1.kill();
    await r2.waitFor(isCmd(task.id, 'guide'), { timeoutMs: 3000 });
    const done = await taskReaches(hub, task.id, 'completed');
    expect(done.deviceId).toBe('robot-2');
    expect(done.history.find((h) => h.cause === 'robot-1 went offline')).toMatchObject({ fromState: 'started', toState: 'created' });
    // robot-1 comes back, possibly still guiding: it is told to drop the task that moved on without it.
    const back = await fleetOn(hub, { only: ['robot-1'] });
    try {
      await back.workers.get('robot-1')!.waitFor(isCmd(task.id, 'cancel'));
    } finally {
      await back.disconnect();
    }
  });

  it('re-dispatches when the device reports a fault, and sends it a cancel', async () => {
    hub = await startTestHub();
    fleet = await fleetOn(hub, { only: ['robot-1', 'robot-2'], profiles: { 'robot-1': workTakes(60000) } });
    const [r1, r2] = [fleet.workers.get('robot-1')!, fleet.workers.get('robot-2')!];
    const task = await dispatch({ type: 'announce', params: { text: '请注意', lang: 'zh-CN' } });
    await taskReaches(hub, task.id, 'started');
    const mark = r1.mark();
    await r1.report('fault');
    await r1.waitFor(isCmd(task.id, 'cancel'), { after: mark });
    await r2.waitFor(isCmd(task.id, 'announce'));
    expect((await taskReaches(hub, task.id, 'completed')).deviceId).toBe('robot-2');
  });

  it('fails the task after maxAttempts and alerts the manager', async () => {
    hub = await startTestHub();
    fleet = await fleetOn(hub, { only: ['robot-1', 'robot-2'], profile: { acceptMs: [5, 10], rejectRate: 1 } });
    const task = await dispatch({ type: 'greet', params: { zone: 'entrance' } });
    const failed = await taskReaches(hub, task.id, 'failed');
    expect(failed.attempts).toBe(3);
    expect(failed.history.filter((h) => h.toState === 'dispatched').map((h) => h.deviceId)).toEqual(['robot-1', 'robot-2', 'robot-1']);
    expect(failed.history.at(-1)?.cause).toBe('no device completed it after 3 attempts');
    // Each device that rejected was told to drop it (contract section 4).
    for (const id of ['robot-1', 'robot-2']) await fleet!.workers.get(id)!.waitFor(isCmd(task.id, 'cancel'));
    // The alert follows the failure (it is raised right after the task is stored).
    const alert = await eventually(async () => (await hub.api('GET', '/api/branches/br-1/alerts?state=open')).body.find((a: { subject: string }) => a.subject === task.id), 3000, 'alert');
    expect(alert).toMatchObject({ type: 'task-failed', open: true });
  });

  it('honours expiresAt: a task not completed in time expires and the device is told to stop', async () => {
    hub = await startTestHub();
    fleet = await fleetOn(hub, { only: ['robot-1'], profiles: { 'robot-1': workTakes(60000) } });
    const r1 = fleet.workers.get('robot-1')!;
    const task = await dispatch({ type: 'announce', params: { text: 'closing soon', lang: 'en' }, ttlSec: 0.5 });
    const cmd = await r1.waitFor(isCmd(task.id, 'announce'));
    expect(Date.parse(String(cmd.payload.expiresAt)) - hub.running.clock.now()).toBeLessThan(600);
    await r1.waitFor(isCmd(task.id, 'cancel'), { timeoutMs: 3000 });
    expect((await taskReaches(hub, task.id, 'expired')).history.at(-1)?.cause).toMatch(/^not completed by /);
  });

  it('pre-empts a running promotion for a greeting with a clean cancel', async () => {
    hub = await startTestHub();
    fleet = await fleetOn(hub, { only: ['robot-1', 'cam-1'], profiles: { 'robot-1': { workMs: { ...FAST.workMs!, promote: [60000, 60000] } } } });
    const r1 = fleet.workers.get('robot-1')!;
    const promo = await dispatch({ type: 'promote', params: { campaign: 'gold', content: { text: 'gold' } } });
    await taskReaches(hub, promo.id, 'started');
    await fleet.sensors.get('cam-1')!.arrive();
    await r1.waitFor(isCmd(promo.id, 'cancel'));
    const greet = await r1.waitFor((m) => m.payload.type === 'greet');
    const cancelled = await taskReaches(hub, promo.id, 'cancelled');
    expect(cancelled.history.at(-1)?.cause).toBe(`pre-empted by greet task ${greet.payload.taskId}`);
    const g = await taskReaches(hub, String(greet.payload.taskId), 'completed');
    expect(g.decision?.rule).toBe('only candidate');
    expect(g.decision?.candidates[0]).toMatchObject({ deviceId: 'robot-1', availability: 'preemptible' });
  });

  it('pre-empts only promotions: a greeting never cancels a guide a manager started', async () => {
    hub = await startTestHub();
    fleet = await fleetOn(hub, { only: ['robot-1', 'robot-2', 'cam-1'], profile: { ...FAST, ...workTakes(60000) } });
    const guide = await dispatch({ type: 'guide', deviceId: 'robot-1', params: { toZone: 'self-service' } });
    const promo = await dispatch({ type: 'promote', deviceId: 'robot-2', params: { campaign: 'gold', content: { text: 'gold' } } });
    await taskReaches(hub, guide.id, 'started');
    await taskReaches(hub, promo.id, 'started');
    await fleet.sensors.get('cam-1')!.arrive();
    const greet = await fleet.workers.get('robot-2')!.waitFor((m) => m.payload.type === 'greet');
    await taskReaches(hub, promo.id, 'cancelled');
    expect((await getTask(hub, String(greet.payload.taskId))).deviceId).toBe('robot-2');
    expect((await getTask(hub, guide.id)).state).toBe('started');
    expect(fleet.workers.get('robot-1')!.received.filter((m) => m.payload.type === 'cancel')).toEqual([]);
  });

  it('answers acks for unknown tasks and from devices not holding the task on error, changing nothing', async () => {
    hub = await startTestHub();
    fleet = await fleetOn(hub, { only: ['robot-1', 'robot-2'], profiles: { 'robot-1': { mute: true } } });
    const [r1, r2] = [fleet.workers.get('robot-1')!, fleet.workers.get('robot-2')!];
    const task = await dispatch({ type: 'greet', params: { zone: 'entrance' } });
    await r1.waitFor(isCmd(task.id));
    await r2.ack(task.id, 'completed');
    expect((await r2.waitFor((m) => m.topic.endsWith('/error'))).payload).toMatchObject({ code: 'not-task-holder', topic: 'branch/br-1/devices/robot-2/ack' });
    await r2.ack('not-a-task', 'accepted');
    await r2.waitFor((m) => m.topic.endsWith('/error') && m.payload.code === 'unknown-task');
    expect((await getTask(hub, task.id)).state).toBe('dispatched');
    await r1.ack(task.id, 'accepted');
    await r1.ack(task.id, 'started');
    await taskReaches(hub, task.id, 'started');
    const mark = r1.mark();
    await r1.ack(task.id, 'accepted'); // a late QoS 1 redelivery of an earlier step: ignored, no error
    await expect(r1.waitFor((m) => m.topic.endsWith('/error'), { after: mark, timeoutMs: 300 })).rejects.toThrow(/no matching message/);
    expect((await getTask(hub, task.id)).state).toBe('started');
    await r1.ack(task.id, 'completed');
    await taskReaches(hub, task.id, 'completed');
    await r1.ack(task.id, 'accepted'); // too late: the task is closed
    await r1.waitFor((m) => m.topic.endsWith('/error') && m.payload.code === 'invalid-transition');
    expect((await getTask(hub, task.id)).state).toBe('completed');
  });

  it('keeps a task waiting while no capable device is online, and dispatches it when one connects', async () => {
    hub = await startTestHub();
    const task = await dispatch({ type: 'display', params: { view: 'notice', content: { text: 'Closed at 16:00' } } });
    expect(task.state).toBe('created');
    fleet = await fleetOn(hub, { only: ['screen-2'] });
    expect((await taskReaches(hub, task.id, 'completed')).deviceId).toBe('screen-2');
  });

  it('expires a task no device could take, and alerts the manager that it was not done', async () => {
    hub = await startTestHub();
    const task = await dispatch({ type: 'display', params: { view: 'notice' }, ttlSec: 0.3 });
    expect(task.state).toBe('created');
    await taskReaches(hub, task.id, 'expired');
    const alert = await eventually(async () => (await hub.api('GET', '/api/branches/br-1/alerts?state=open')).body.find((a: { subject: string }) => a.subject === task.id), 3000, 'alert');
    expect(alert).toMatchObject({ type: 'task-failed', message: 'display task expired: no device did it' });
  });

  it('survives a restart in the middle of a pending ack: the deadline still fires and the task moves on', async () => {
    hub = await startTestHub(testConfig({ rules: { ackTimeoutSec: 1.5 } }));
    fleet = await fleetOn(hub, { only: ['robot-1', 'robot-2'], profiles: { 'robot-1': { mute: true } } });
    const task = await dispatch({ type: 'greet', params: { zone: 'entrance' } });
    await fleet.workers.get('robot-1')!.waitFor(isCmd(task.id));
    const dispatchedAt = hub.running.clock.now();
    hub = await hub.restart(); // the devices lose their connections with it (the new hub's clock is real time again, as was this one's)
    await fleet.disconnect();
    expect((await getTask(hub, task.id)).state).toBe('dispatched');
    fleet = await fleetOn(hub, { only: ['robot-1', 'robot-2'], profiles: { 'robot-1': { mute: true } } });
    const again = await fleet.workers.get('robot-2')!.waitFor(isCmd(task.id, 'greet'), { timeoutMs: 5000 });
    expect(again.at - dispatchedAt).toBeGreaterThanOrEqual(1400);
    const done = await taskReaches(hub, task.id, 'completed');
    expect(done.history.map((h) => h.cause)).toContain('robot-1 did not accept within 1.5 s');
  });
});
