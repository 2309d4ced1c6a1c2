import { loadConfig } from '../src/config/load-config.js';
import { Branches } from '../src/branch/branches.service.js';
import { runDay } from '../device-sims/day/run.js';
import { loadScenario } from '../device-sims/day/scenario.js';
import { eventually, startTestHub, type TestHub } from './support/hub.js';
import type { Task } from './support/fleet.js';

const FINAL = ['completed', 'failed', 'cancelled', 'expired', 'rejected'];

/**
 * A quarter of an hour of the demo branch's peak day (device-sims/scenarios/peak-day.yaml),
 * the hub in this process: customers, tickets, counters, cameras, robots and screens that sometimes reject
 * or fail. Whatever happens, the hub and the simulators must agree on the protocol and every task must end.
 */
describe('a simulated branch day against the real hub', () => {
  let hub: TestHub;
  afterAll(() => hub?.close());

  it('ends every task with a consistent history, and never rejects a simulator message', async () => {
    const scenario = loadScenario('peak-day');
    const config = loadConfig({ HUB_CONFIG: scenario.configPath, HUB_TIME_SCALE: '60', HUB_CLOCK_START: new Date(`${scenario.date}T10:00:00`).toISOString() });
    // The test manager of every test hub (support/hub.ts), in place of the demo's.
    hub = await startTestHub({ ...config, server: { ...config.server, mqttPort: 0, httpPort: 0 }, managers: [{ username: 'lobby', password: 'lobby-test', passwordHash: undefined }] });
    const day = await runDay({
      scenario,
      coordinated: true,
      scale: 60,
      from: '10:00',
      to: '10:15',
      drainMs: 10 * 60_000,
      hub: { mqttUrl: hub.mqttUrl, httpUrl: hub.httpUrl },
      login: { username: 'lobby', password: 'lobby-test' },
    });
    expect(day.customers.length).toBeGreaterThan(5);
    const branch = config.branches[0].id;

    const tasks = await eventually(
      async () => {
        const all: Task[] = (await hub.api('GET', `/api/branches/${branch}/tasks`)).body;
        return all.every((t) => FINAL.includes(t.state)) && all;
      },
      15000,
      'every task closed',
    );
    expect(tasks.filter((t) => t.type === 'greet' && t.state === 'completed').length).toBeGreaterThan(3);
    for (const t of tasks) {
      t.history.forEach((h, i) => expect(h.fromState).toBe(i === 0 ? null : t.history[i - 1].toState));
      expect(t.history.at(-1)!.toState).toBe(t.state);
    }
    const failed = tasks.filter((t) => t.state === 'failed').map((t) => t.id);
    await eventually(async () => {
      const alerts: { type: string; subject: string }[] = (await hub.api('GET', `/api/branches/${branch}/alerts`)).body;
      return failed.every((id) => alerts.some((a) => a.type === 'task-failed' && a.subject === id));
    }, 3000, 'a task-failed alert for every failed task');

    const metrics = await fetch(`${hub.httpUrl}/metrics`).then((r) => r.text());
    // The only refusal a well-behaved device can earn: an ack that crossed the hub's timeout and `cancel` on the wire
    // (on a loaded machine a 5 s ack timeout is 83 real ms here). Anything else is a protocol disagreement.
    const timedOut = tasks.flatMap((t) => t.history.filter((h) => /did not accept within/.test(h.cause)).map(() => t.id));
    const refused = metrics.match(/^hub_mqtt_rejected_total\{.*reason="(?!not-task-holder).*$/gm);
    expect(refused).toBeNull();
    if (!timedOut.length) expect(metrics).not.toMatch(/^hub_mqtt_rejected_total\{.*reason="not-task-holder"/m);
    // Counters serve in real service times: the hub learns from every one of them (it ignores durations no counter could take).
    const atCounters = day.customers.filter((c) => c.servedBy === 'counter' && c.servedAt !== undefined).length;
    expect(atCounters).toBeGreaterThan(0);
    await hub.settle();
    const queues = hub.running.app.get(Branches).get(branch).model.queues();
    expect(Object.values(queues).reduce((n, q) => n + q.observedServices, 0)).toBe(atCounters);
    console.log(`branch day: ${day.customers.length} arrivals, ${atCounters} served at counters, ${tasks.length} tasks (${failed.length} failed)`);
  });
});
