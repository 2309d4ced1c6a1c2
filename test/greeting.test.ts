import type { Fleet } from '../device-sims/fleet.js';
import type { Received } from '../device-sims/device.js';
import { eventually, startTestHub, testConfig, type TestHub } from './support/hub.js';
import { fleetOn, taskReaches } from './support/fleet.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const isTask = (type: string) => (m: Received) => m.topic.endsWith('/cmd') && m.payload.type === type;

describe('greeting flow, end to end', () => {
  let hub: TestHub;
  let fleet: Fleet;

  afterEach(async () => {
    await fleet?.disconnect();
    await hub?.close();
  });

  it('greets 20 arrivals, each within 1 s of the footfall message', async () => {
    hub = await startTestHub(testConfig({ rules: { greetCooldownSec: 0 } }));
    fleet = await fleetOn(hub, { only: ['robot-1', 'robot-2', 'cam-1'] });
    const cam = fleet.sensors.get('cam-1')!;
    const robots = [fleet.workers.get('robot-1')!, fleet.workers.get('robot-2')!];
    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const marks = robots.map((r) => r.mark());
      const t0 = hub.running.clock.now();
      await cam.arrive(i % 5 === 0 ? { segment: 'senior' } : {});
      const cmd = await Promise.any(robots.map((r, j) => r.waitFor(isTask('greet'), { after: marks[j], timeoutMs: 2000 })));
      latencies.push(cmd.at - t0);
      expect(cmd.payload.params).toEqual({ zone: 'entrance', ...(i % 5 === 0 ? { segment: 'senior' } : {}) });
      await taskReaches(hub, String(cmd.payload.taskId), 'completed');
    }
    console.log(`greeting latency over 20 arrivals: median ${median(latencies)} ms, max ${Math.max(...latencies)} ms`);
    expect(latencies).toHaveLength(20);
    expect(Math.max(...latencies)).toBeLessThan(1000);
    const tasks = (await hub.api('GET', '/api/branches/br-1/tasks?state=completed')).body;
    expect(tasks.filter((t: { type: string }) => t.type === 'greet')).toHaveLength(20);
    const metrics = await fetch(`${hub.httpUrl}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/hub_dispatch_latency_seconds_count\{type="greet"\} 20/);
  });

  it('greets a group once within the cooldown, and again after it', async () => {
    hub = await startTestHub(testConfig({ rules: { greetCooldownSec: 30 } }));
    fleet = await fleetOn(hub, { only: ['robot-1', 'cam-1'] });
    const [cam, robot] = [fleet.sensors.get('cam-1')!, fleet.workers.get('robot-1')!];
    // The camera stamps each sighting (`ts`, on the hub's clock): the group is told by those times.
    const t0 = hub.running.clock.now();
    const arriveAt = (sec: number) => cam.publish('footfall', { direction: 'in', ts: new Date(t0 + sec * 1000).toISOString() });
    await cam.publish('footfall', { direction: 'in', count: 3, ts: new Date(t0).toISOString() });
    const first = await robot.waitFor(isTask('greet'));
    await taskReaches(hub, String(first.payload.taskId), 'completed');
    const mark = robot.mark();
    await arriveAt(20);
    await cam.leave(); // out-going traffic is never greeted
    await hub.settle();
    expect(robot.received.slice(mark).filter(isTask('greet'))).toEqual([]);
    await arriveAt(31);
    await robot.waitFor(isTask('greet'), { after: mark, timeoutMs: 1000 });
  });

  it('with no cooldown, greets two arrivals 20 ms apart on two idle robots (the second came while the first was dispatched)', async () => {
    hub = await startTestHub(testConfig({ rules: { greetCooldownSec: 0 } }));
    fleet = await fleetOn(hub, { only: ['robot-1', 'robot-2', 'screen-1', 'cam-1'] });
    const cam = fleet.sensors.get('cam-1')!;
    const t0 = hub.running.clock.now();
    await Promise.all([0, 20].map((ms) => cam.publish('footfall', { direction: 'in', ts: new Date(t0 + ms).toISOString() })));
    const greeted = await eventually(async () => {
      const tasks: { type: string; deviceId: string; state: string }[] = (await hub.api('GET', '/api/branches/br-1/tasks')).body;
      const greets = tasks.filter((t) => t.type === 'greet' && t.state === 'completed');
      return greets.length === 2 && greets;
    }, 3000, 'two greetings');
    expect(greeted.map((t) => t.deviceId).sort()).toEqual(['robot-1', 'robot-2']);
    expect(fleet.workers.get('screen-1')!.received.filter(isTask('display'))).toEqual([]);
  });

  it('when two entry zones see arrivals at once and one robot is free, one is greeted and the other gets its screen', async () => {
    const config = testConfig({ rules: { greetCooldownSec: 0 } });
    config.branches[0].zones.find((z) => z.id === 'waiting')!.entry = true;
    hub = await startTestHub(config);
    fleet = await fleetOn(hub, { only: ['robot-1', 'screen-1', 'screen-2', 'cam-1'], profiles: { 'robot-1': { workMs: { greet: [60000, 60000] } } } });
    const cam = fleet.sensors.get('cam-1')!;
    await Promise.all([cam.arrive({ zone: 'entrance' }), cam.arrive({ zone: 'waiting' })]);
    const greet = await fleet.workers.get('robot-1')!.waitFor(isTask('greet'));
    const otherZone = greet.payload.params && (greet.payload.params as { zone: string }).zone === 'entrance' ? 'waiting' : 'entrance';
    const screen = fleet.workers.get(otherZone === 'entrance' ? 'screen-1' : 'screen-2')!;
    const welcome = await screen.waitFor(isTask('display'));
    expect(welcome.payload.params).toMatchObject({ view: 'welcome', content: { zone: otherZone } });
    await hub.settle();
    // Nothing waits for a robot: the flow knew at once that none was free.
    expect((await hub.api('GET', '/api/branches/br-1/tasks?state=created')).body).toEqual([]);
  });

  it('does not count a robot with a low battery as free: the entrance screen welcomes instead', async () => {
    hub = await startTestHub();
    fleet = await fleetOn(hub, { only: ['robot-1', 'screen-1', 'cam-1'] });
    const robot = fleet.workers.get('robot-1')!;
    robot.battery = 9;
    await robot.report('idle');
    await eventually(async () => (await hub.api('GET', '/api/branches/br-1/devices')).body.find((d: { id: string }) => d.id === 'robot-1').battery === 9, 3000, 'battery 9');
    await fleet.sensors.get('cam-1')!.arrive();
    expect((await fleet.workers.get('screen-1')!.waitFor(isTask('display'))).payload.params).toMatchObject({ view: 'welcome' });
    expect(robot.received.filter((m) => m.topic.endsWith('/cmd'))).toEqual([]);
  });

  it('shows a welcome on a screen of the entry zone when no robot is free, and alerts on a VIP', async () => {
    hub = await startTestHub();
    fleet = await fleetOn(hub, { only: ['robot-1', 'robot-2', 'screen-1', 'screen-2', 'cam-1'], profiles: { 'robot-1': { workMs: { guide: [60000, 60000] } }, 'robot-2': { workMs: { guide: [60000, 60000] } } } });
    // Both robots busy guiding customers (priority above promotion): nobody is free to greet.
    for (const _ of [1, 2]) {
      const t = (await hub.api('POST', '/api/branches/br-1/tasks', { type: 'guide', params: { toZone: 'self-service' } })).body;
      await taskReaches(hub, t.id, 'started');
    }
    const [s1, s2] = [fleet.workers.get('screen-1')!, fleet.workers.get('screen-2')!];
    await fleet.sensors.get('cam-1')!.arrive({ segment: 'vip' });
    const welcome = await s1.waitFor(isTask('display'));
    expect(welcome.payload.params).toMatchObject({ view: 'welcome', content: { zone: 'entrance', segment: 'vip' } });
    expect(s2.received.filter((m) => m.topic.endsWith('/cmd'))).toEqual([]);
    const alert = await eventually(async () => (await hub.api('GET', '/api/branches/br-1/alerts?state=open')).body.find((a: { type: string }) => a.type === 'vip-arrival'), 3000, 'vip alert');
    expect(alert).toMatchObject({ open: true, data: { zone: 'entrance' } });
    // A manager acknowledges it: event alerts close on acknowledgement.
    const acked = await hub.api('POST', `/api/alerts/${alert.id}/ack`);
    expect(acked.body).toMatchObject({ open: false, ackedBy: 'lobby' });
    expect((await hub.api('GET', '/api/branches/br-1/alerts?state=open')).body).toEqual([]);
    expect((await hub.api('GET', '/api/branches/br-1/alerts')).body).toContainEqual(expect.objectContaining({ id: alert.id, open: false }));
  });
});
