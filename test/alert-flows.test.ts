import type { Fleet } from '../device-sims/fleet.js';
import { Branches } from '../src/branch/branches.service.js';
import { HubEvents } from '../src/hub-events.js';
import type { Rules } from '../src/config/config.schema.js';
import { Store } from '../src/persistence/store.js';
import { fleetOn } from './support/fleet.js';
import { eventually, startTestHub, testConfig, type TestHub } from './support/hub.js';

type Alert = { id: string; type: string; subject: string; message: string; level: string; open: boolean; data: Record<string, unknown>; raisedAt: string; clearedAt: string | null };

const openAlerts = async (hub: TestHub, type: string): Promise<Alert[]> =>
  ((await hub.api('GET', '/api/branches/br-1/alerts?state=open')).body as Alert[]).filter((a) => a.type === type);
const allAlerts = async (hub: TestHub, type: string): Promise<Alert[]> => ((await hub.api('GET', '/api/branches/br-1/alerts')).body as Alert[]).filter((a) => a.type === type);

/** The flows that call the lobby manager, driven through the real broker by simulated devices, on a scaled hub clock. */
describe('flows that raise alerts', () => {
  let hub: TestHub;
  let fleet: Fleet;

  const start = async (rules: Partial<Rules> = {}, timeScale = 1) => {
    hub = await startTestHub(testConfig({ rules, server: { timeScale } }));
    fleet = await fleetOn(hub, { only: ['cam-1', 'qms-1'] });
    return { cam: fleet.sensors.get('cam-1')!, qms: fleet.queues.get('qms-1')! };
  };
  afterEach(async () => {
    await fleet?.disconnect();
    await hub?.close();
  });

  describe('crowding', () => {
    it('raises once at capacity, does not flap while the count hovers around it, clears below 90 %', async () => {
      const { cam } = await start();
      // entrance: capacity 10
      for (const count of [9, 10, 9, 10, 9, 10]) await cam.occupancy('entrance', count);
      await hub.settle();
      const raised = await openAlerts(hub, 'crowding');
      expect(raised).toHaveLength(1);
      expect(raised[0]).toMatchObject({ subject: 'entrance', level: 'warning', data: { zone: 'entrance', count: 10, capacity: 10 } });
      await cam.occupancy('entrance', 8);
      await hub.settle();
      expect(await openAlerts(hub, 'crowding')).toEqual([]);
      expect((await allAlerts(hub, 'crowding'))[0]).toMatchObject({ open: false, clearedAt: expect.any(String) });
      // A new crowding is a new alert.
      await cam.occupancy('entrance', 12);
      await hub.settle();
      expect(await openAlerts(hub, 'crowding')).toHaveLength(1);
      expect(await allAlerts(hub, 'crowding')).toHaveLength(2);
    });

    it('clears an acknowledged crowding alert and keeps who acknowledged it, in the database and in the cleared event', async () => {
      const { cam } = await start();
      await cam.occupancy('entrance', 10);
      await hub.settle();
      const [raised] = await openAlerts(hub, 'crowding');
      await hub.api('POST', `/api/alerts/${raised.id}/ack`);
      const heard: { id: string; open: boolean; ackedBy: string | null }[] = [];
      hub.running.app.get(HubEvents).on('alertChanged', (e) => void heard.push(e.alert));
      await cam.occupancy('entrance', 8);
      await hub.settle();
      const [cleared] = (await allAlerts(hub, 'crowding')) as (Alert & { ackedBy: string | null; ackedAt: string | null })[];
      expect(cleared).toMatchObject({ id: raised.id, open: false, clearedAt: expect.any(String), ackedBy: 'lobby', ackedAt: expect.any(String) });
      expect(heard).toEqual([expect.objectContaining({ id: raised.id, open: false, ackedBy: 'lobby' })]);
    });

    it('keeps one open crowding alert across a restart: footfall cannot clear it until a camera reads the zone again', async () => {
      const { cam } = await start();
      await cam.occupancy('entrance', 10);
      await hub.settle();
      const [raised] = await openAlerts(hub, 'crowding');
      await fleet.disconnect();
      hub = await hub.restart();
      fleet = await fleetOn(hub, { only: ['cam-1'] });
      const again = fleet.sensors.get('cam-1')!;
      await again.arrive(); // the count was lost: one arrival says nothing about 10 people
      await hub.settle();
      expect((await openAlerts(hub, 'crowding')).map((a) => a.id)).toEqual([raised.id]);
      await again.occupancy('entrance', 11);
      await hub.settle();
      expect(await allAlerts(hub, 'crowding')).toHaveLength(1);
      await again.occupancy('entrance', 5);
      await hub.settle();
      expect(await openAlerts(hub, 'crowding')).toEqual([]);
    });

    it('counts footfall in and out between readings, never below zero, and a reading corrects it', async () => {
      const { cam } = await start();
      await cam.arrive({ count: 6 });
      await cam.arrive({ count: 4 });
      await hub.settle();
      expect(await openAlerts(hub, 'crowding')).toHaveLength(1);
      await cam.leave({ count: 30 });
      await hub.settle();
      expect(await openAlerts(hub, 'crowding')).toEqual([]);
      expect(hub.running.app.get(Branches).get('br-1').model.peopleIn('entrance')).toBe(0);
      await cam.occupancy('entrance', 3);
      await cam.arrive({ count: 2 });
      await hub.settle();
      expect(hub.running.app.get(Branches).get('br-1').model.peopleIn('entrance')).toBe(5);
    });
  });

  describe('long wait', () => {
    it('names a ticket that waits longer than longWaitMin, and clears when it is called', async () => {
      // 1 min of hub time in 1 s at 60×: the 5 s margin is 83 ms real, enough on a busy 2-core machine.
      const { qms } = await start({ longWaitMin: 1 }, 60);
      const t0 = hub.running.clock.now();
      const ticket = await qms.issue('card');
      const alert = await eventually(async () => (await openAlerts(hub, 'long-wait'))[0], 3000, 'long-wait alert');
      expect(alert).toMatchObject({ subject: `card/${ticket}`, data: { service: 'card', ticket } });
      // Raised within 5 s of hub time after the threshold (contract section 5).
      const late = Date.parse(alert.raisedAt) - t0 - 60_000;
      expect(late).toBeGreaterThanOrEqual(-50);
      expect(late).toBeLessThan(5000);
      await qms.call(ticket, 'card', '1');
      await eventually(async () => (await openAlerts(hub, 'long-wait')).length === 0, 3000, 'cleared');
    });

    it('raises nothing for a ticket called in time', async () => {
      const { qms } = await start({ longWaitMin: 1 }, 60);
      const ticket = await qms.issue('cash');
      await qms.call(ticket, 'cash', '2');
      await hub.settle();
      await new Promise<void>((r) => hub.running.clock.setTimeout(r, 70_000)); // past the threshold, on the hub's clock
      await hub.settle();
      expect(await allAlerts(hub, 'long-wait')).toEqual([]);
    });

    it('a hub restarted while a ticket waits still raises the alert on time', async () => {
      // 2 min of hub time is 2 s real at 60×; the hub restarts in between.
      const { qms } = await start({ longWaitMin: 2 }, 60);
      const issuedAt = hub.running.clock.now();
      const ticket = await qms.issue('card');
      await hub.settle();
      await fleet.disconnect();
      hub = await hub.restart();
      expect(await allAlerts(hub, 'long-wait')).toEqual([]);
      const alert = await eventually(async () => (await openAlerts(hub, 'long-wait'))[0], 5000, 'long-wait after the restart');
      expect(alert.subject).toBe(`card/${ticket}`);
      // On time on the hub's clock: the stored deadline (issued + 2 min) fires when the new hub's clock reaches it.
      const late = Date.parse(alert.raisedAt) - (issuedAt + 120_000);
      expect(late).toBeGreaterThanOrEqual(-50);
      expect(late).toBeLessThan(5000);
    });

    it('a waiting ticket stored without its actor (older data) gets one at start-up: overdue by then, it raises at once', async () => {
      const { qms } = await start({ longWaitMin: 1 });
      const ticket = await qms.issue('card');
      await hub.settle();
      // As a hub from before the flows left it: the ticket, no actor, no deadline.
      await hub.running.app.get(Store).manager.query(`DELETE FROM flow_state WHERE "actor" LIKE 'long-wait:%'`);
      await hub.running.app.get(Store).manager.query(`DELETE FROM deadline WHERE "kind" = 'flow'`);
      await fleet.disconnect();
      await hub.stop();
      // Back 5 minutes later on the hub's clock.
      hub = await startTestHub({ ...hub.config, server: { ...hub.config.server, clockStart: new Date(Date.now() + 5 * 60_000).toISOString() } }, hub.dataDir);
      const alert = await eventually(async () => (await openAlerts(hub, 'long-wait'))[0], 3000, 'long-wait at start-up');
      expect(alert.subject).toBe(`card/${ticket}`);
    });
    it('a waiting ticket of an older hub (a v1 actor living from its issue, with its `due` deadline) raises once overdue after the upgrade', async () => {
      const { qms } = await start({ longWaitMin: 1 });
      const ticket = await qms.issue('card');
      await hub.settle();
      const store = hub.running.app.get(Store).manager;
      const [startRow] = await store.query(`SELECT "key", "dueAt", "branchId" FROM deadline WHERE "key" LIKE '%long-wait%'`);
      const actor = `long-wait:card:${ticket}`;
      const issuedAt = Date.parse(startRow.dueAt) - 60_000;
      // What v1 stored: the actor in `waiting` from the ticket's issue, and its `due` deadline without the actor's input.
      const v1 = { status: 'active', value: 'waiting', historyValue: {}, context: { service: 'card', ticket, issuedAt, longWaitMs: 60_000 }, children: {} };
      await store.query(`DELETE FROM deadline WHERE "key" = ?`, [startRow.key]);
      await store.query(`INSERT INTO flow_state ("branchId", "actor", "machine", "version", "snapshot", "updatedAt") VALUES (?, ?, 'long-wait', 1, ?, ?)`, [startRow.branchId, actor, JSON.stringify(v1), startRow.dueAt]);
      const due = { actor, machine: 'long-wait', event: { type: 'DUE' } };
      await store.query(`INSERT INTO deadline ("key", "branchId", "kind", "dueAt", "data") VALUES (?, ?, 'flow', ?, ?)`, [startRow.key.replace(/:start$/, ':due'), startRow.branchId, startRow.dueAt, JSON.stringify(due)]);
      await fleet.disconnect();
      await hub.stop();
      hub = await startTestHub({ ...hub.config, server: { ...hub.config.server, clockStart: new Date(Date.now() + 5 * 60_000).toISOString() } }, hub.dataDir);
      const alert = await eventually(async () => (await openAlerts(hub, 'long-wait'))[0], 3000, 'long-wait after the upgrade');
      expect(alert.subject).toBe(`card/${ticket}`);
      const rows = await hub.running.app.get(Store).manager.query(`SELECT "version", "snapshot" FROM flow_state WHERE "actor" = ?`, [actor]);
      expect(rows.map((r: { version: number; snapshot: string }) => [r.version, JSON.parse(r.snapshot).value])).toEqual([[2, 'overdue']]);
    });
  });

  describe('unattended post', () => {
    it('raises when a post is left while tickets wait, for postEmptyMin, and clears when someone is back', async () => {
      const { cam, qms } = await start({ postEmptyMin: 1 }, 60);
      await cam.post('counter-1', false); // nobody waits yet: no alert
      await hub.settle();
      await new Promise<void>((r) => hub.running.clock.setTimeout(r, 70_000));
      await hub.settle();
      expect(await allAlerts(hub, 'post-unattended')).toEqual([]);
      const waitingFrom = hub.running.clock.now();
      await qms.issue('cash');
      const alert = await eventually(async () => (await openAlerts(hub, 'post-unattended'))[0], 3000, 'post-unattended');
      expect(alert).toMatchObject({ subject: 'counter-1', data: { post: 'counter-1' } });
      // postEmptyMin after both held (left unstaffed, and a ticket waiting), not before, and within 5 s.
      const after = Date.parse(alert.raisedAt) - waitingFrom;
      expect(after).toBeGreaterThanOrEqual(60_000 - 50);
      expect(after).toBeLessThan(65_000);
      await cam.post('counter-1', true);
      await eventually(async () => (await openAlerts(hub, 'post-unattended')).length === 0, 3000, 'cleared');
    });
  });

  describe('staff conduct', () => {
    it('raises a conduct alert naming type, zone and post, once per open finding, closed when acknowledged', async () => {
      const { cam } = await start();
      await cam.publish('conduct', { type: 'absent-from-post', post: 'counter-2', detail: 'empty chair' });
      await cam.publish('conduct', { type: 'absent-from-post', post: 'counter-2' });
      await hub.settle();
      const [alert] = await openAlerts(hub, 'conduct');
      expect(await openAlerts(hub, 'conduct')).toHaveLength(1);
      expect(alert).toMatchObject({ subject: 'absent-from-post@counter-2', data: { finding: 'absent-from-post', post: 'counter-2', zone: 'entrance' } });
      expect(alert.message).toContain('empty chair');
      const acked = await hub.api('POST', `/api/alerts/${alert.id}/ack`);
      expect(acked.body).toMatchObject({ open: false, ackedBy: 'lobby' });
      await cam.publish('conduct', { type: 'absent-from-post', post: 'counter-2' });
      await hub.settle();
      expect(await openAlerts(hub, 'conduct')).toHaveLength(1); // a new finding after the acknowledgement is new
    });

    it.each([
      ['an unknown type', { type: 'sleeping' }, /type/],
      ['an unknown post', { type: 'other', post: 'counter-9' }, /post: branch br-1 has no post "counter-9"/],
      ['an unknown zone', { type: 'other', zone: 'roof' }, /zone: branch br-1 has no zone "roof"/],
      ['a wrong type of detail', { type: 'other', detail: 42 }, /detail/],
    ])('answers %s on error and raises nothing', async (_, payload, detail) => {
      await start();
      const cam = fleet.sensors.get('cam-1')!;
      const answer = cam.waitFor((m) => m.topic.endsWith('/error'));
      await cam.client.publishAsync('branch/br-1/devices/cam-1/conduct', JSON.stringify(payload), { qos: 1 });
      expect((await answer).payload).toMatchObject({ code: 'invalid-payload', detail: expect.stringMatching(detail), topic: 'branch/br-1/devices/cam-1/conduct' });
      await hub.settle();
      expect(await allAlerts(hub, 'conduct')).toEqual([]);
    });
  });
});
