import { branchDay } from '../device-sims/scenarios/branch-day.js';
import type { Fleet } from '../device-sims/fleet.js';
import { eventually, startTestHub, type TestHub } from './support/hub.js';
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
    hub = await startTestHub();
    fleet = await fleetOn(hub, { profile: { speed: 60, seed: 42 } }); // the kinds' realistic profiles, 60× faster
    const day = await branchDay(hub.config.branches[0], fleet, { speed: 60, arrivalsPerHour: 300, durationMs: 6000, seed: 42 });
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
    expect(metrics).not.toMatch(/^hub_mqtt_rejected_total\{/m);
    expect(fleet.all.flatMap((d) => d.received.filter((m) => m.topic.endsWith('/error')))).toEqual([]);
    console.log(`branch day: ${day.arrivals} arrivals, ${day.tickets} tickets, ${tasks.length} tasks (${failed.length} failed)`);
  });
});
