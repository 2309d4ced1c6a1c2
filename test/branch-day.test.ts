import { branchDay } from '../device-sims/scenarios/branch-day.js';
import { Branches } from '../src/branch/branches.service.js';
import type { Fleet } from '../device-sims/fleet.js';
import { eventually, startTestHub, testConfig, type TestHub } from './support/hub.js';
import { fleetOn, type Task } from './support/fleet.js';

const FINAL = ['completed', 'failed', 'cancelled', 'expired', 'rejected'];

/**
 * A compressed branch day (seeded): arrivals, VIPs, tickets, robots and screens that sometimes reject or
 * fail. Whatever happens, the hub and the simulators must agree on the protocol and every task must end.
 */
describe('a branch day against the real hub', () => {
  let hub: TestHub;
  let fleet: Fleet;
  afterAll(async () => {
    await fleet?.disconnect();
    await hub?.close();
  });

  it('ends every task with a consistent history, and never rejects a simulator message', async () => {
    // Hub and devices on one clock at 60×: nine branch minutes in nine real seconds, the kinds' realistic profiles.
    // The contract's default ack timeout: the test branch's 1 s would be 17 real ms here, about a busy hub's round trip.
    hub = await startTestHub(testConfig({ server: { timeScale: 60 }, rules: { ackTimeoutSec: 5, greetCooldownSec: 5 } }));
    fleet = await fleetOn(hub, { profile: { seed: 42 } });
    const day = await branchDay(hub.config.branches[0], fleet, { arrivalsPerHour: 200, durationMs: 9 * 60_000, seed: 42 });
    expect(day.arrivals).toBeGreaterThan(10);

    const tasks = await eventually(
      async () => {
        const all: Task[] = (await hub.api('GET', '/api/branches/br-1/tasks')).body;
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
      const alerts: { type: string; subject: string }[] = (await hub.api('GET', '/api/branches/br-1/alerts')).body;
      return failed.every((id) => alerts.some((a) => a.type === 'task-failed' && a.subject === id));
    }, 3000, 'a task-failed alert for every failed task');

    const metrics = await fetch(`${hub.httpUrl}/metrics`).then((r) => r.text());
    // The only refusal a well-behaved device can earn: an ack that crossed the hub's timeout and `cancel` on the wire
    // (on a loaded machine a 5 s ack timeout is 83 real ms here). Anything else is a protocol disagreement.
    const errors = fleet.all.flatMap((d) => d.received.filter((m) => m.topic.endsWith('/error')).map((m) => m.payload));
    const timedOut = tasks.flatMap((t) => t.history.filter((h) => /did not accept within/.test(h.cause)).map(() => t.id));
    for (const e of errors) expect(e).toMatchObject({ code: 'not-task-holder', detail: expect.stringMatching(new RegExp(`^task (${timedOut.join('|') || '-'}) `)) });
    expect(metrics.match(/^hub_mqtt_rejected_total\{.*reason="(?!not-task-holder)/m)).toBeNull();
    // Counters serve in real service times: the hub learns from every one of them (it ignores durations no counter could take).
    expect(day.served).toBeGreaterThan(0);
    const queues = hub.running.app.get(Branches).get('br-1').model.queues();
    expect(Object.values(queues).reduce((n, q) => n + q.observedServices, 0)).toBe(day.served);
    console.log(`branch day: ${day.arrivals} arrivals, ${day.tickets} tickets, ${day.served} served, ${tasks.length} tasks (${failed.length} failed)`);
  });
});
