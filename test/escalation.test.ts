import { io } from 'socket.io-client';
import type { Fleet } from '../device-sims/fleet.js';
import { fleetOn } from './support/fleet.js';
import { eventually, startTestHub, testConfig, type TestHub } from './support/hub.js';

type Alert = { id: string; type: string; level: string; escalatedAt: string | null; open: boolean; raisedAt: string };

/** Alerts nobody acknowledges rise a level each alertEscalateMin (contract section 5), on a durable deadline. */
describe('alert escalation', () => {
  let hub: TestHub;
  let fleet: Fleet;
  afterEach(async () => {
    await fleet?.disconnect();
    await hub?.close();
  });

  const conductAlert = async (): Promise<Alert> => {
    await fleet.sensors.get('cam-1')!.publish('conduct', { type: 'operating-for-customer', post: 'counter-1' });
    return eventually(async () => ((await hub.api('GET', '/api/branches/br-1/alerts?state=open')).body as Alert[]).find((a) => a.type === 'conduct'), 3000, 'conduct alert');
  };

  it('raises the level each alertEscalateMin until critical, each time with an alert event; an acknowledged one stays', async () => {
    hub = await startTestHub(testConfig({ rules: { alertEscalateMin: 1 }, server: { timeScale: 60 } }));
    fleet = await fleetOn(hub, { only: ['cam-1'] });
    const socket = io(`${hub.httpUrl}/dashboard`, { auth: { token: await hub.token() }, transports: ['websocket'] });
    const events: Alert[] = [];
    socket.on('alert', (a: Alert) => events.push(a));
    await new Promise((r) => socket.once('snapshot', r));
    try {
      const alert = await conductAlert();
      expect(alert.level).toBe('warning');
      await eventually(() => events.some((e) => e.id === alert.id && e.level === 'critical'), 3000, 'escalated to critical');
      const critical = events.find((e) => e.id === alert.id && e.level === 'critical')!;
      const after = Date.parse(critical.escalatedAt!) - Date.parse(alert.raisedAt);
      expect(after).toBeGreaterThanOrEqual(60_000 - 50);
      expect(after).toBeLessThan(65_000);
      // Critical is the top: nothing more, however long it waits.
      await new Promise<void>((r) => hub.running.clock.setTimeout(r, 70_000));
      await hub.settle();
      expect(events.filter((e) => e.id === alert.id).map((e) => e.level)).toEqual(['warning', 'critical']);

      // An acknowledged alert does not escalate.
      await hub.api('POST', `/api/alerts/${alert.id}/ack`);
      await fleet.sensors.get('cam-1')!.publish('conduct', { type: 'other', zone: 'waiting' });
      const second = await eventually(async () => ((await hub.api('GET', '/api/branches/br-1/alerts?state=open')).body as Alert[]).find((a) => a.type === 'conduct'), 3000, 'second');
      await hub.api('POST', `/api/alerts/${second.id}/ack`);
      await new Promise<void>((r) => hub.running.clock.setTimeout(r, 70_000));
      await hub.settle();
      expect(((await hub.api('GET', '/api/branches/br-1/alerts')).body as Alert[]).find((a) => a.id === second.id)).toMatchObject({ level: 'warning', escalatedAt: null });
    } finally {
      socket.close();
    }
  });

  it('a pending escalation survives a restart', async () => {
    // 1 min of hub time = 1 s real at 60×; the hub restarts in between.
    hub = await startTestHub(testConfig({ rules: { alertEscalateMin: 1 }, server: { timeScale: 60 } }));
    fleet = await fleetOn(hub, { only: ['cam-1'] });
    const alert = await conductAlert();
    await fleet.disconnect();
    hub = await hub.restart();
    expect(((await hub.api('GET', '/api/branches/br-1/alerts?state=open')).body as Alert[]).find((a) => a.id === alert.id)?.level).toBe('warning');
    const escalated = await eventually(
      async () => ((await hub.api('GET', '/api/branches/br-1/alerts?state=open')).body as Alert[]).find((a) => a.id === alert.id && a.level === 'critical'),
      5000,
      'escalated after the restart',
    );
    expect(Date.parse(escalated.escalatedAt!) - Date.parse(alert.raisedAt)).toBeGreaterThanOrEqual(60_000 - 50);
  });
});
