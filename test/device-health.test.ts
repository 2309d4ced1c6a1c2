import { AlertsService } from '../src/alerts/alerts.service.js';
import type { Fleet } from '../device-sims/fleet.js';
import { eventually, startTestHub, testConfig, type TestHub } from './support/hub.js';
import { fleetOn } from './support/fleet.js';

type Alert = { id: string; type: string; subject: string; open: boolean; message: string; clearedAt: string | null };

describe('device health alerts', () => {
  let hub: TestHub;
  let fleet: Fleet;
  afterEach(async () => {
    await fleet?.disconnect();
    await hub.close();
  });
  const downAlerts = async (state = '') => ((await hub.api('GET', `/api/branches/br-1/alerts${state}`)).body as Alert[]).filter((a) => a.type === 'device-down');

  it('raises device-down when a device drops off, and clears it when it is back', async () => {
    hub = await startTestHub();
    fleet = await fleetOn(hub, { only: ['robot-1'] });
    expect(await downAlerts()).toEqual([]); // being offline before the first connection is not news
    fleet.workers.get('robot-1')!.kill();
    const [raised] = await eventually(() => downAlerts('?state=open').then((a) => (a.length ? a : null)), 3000, 'device-down');
    expect(raised).toMatchObject({ subject: 'robot-1', message: 'robot robot-1 went offline', open: true });
    fleet = await fleetOn(hub, { only: ['robot-1'] });
    await eventually(async () => (await downAlerts('?state=open')).length === 0, 3000, 'cleared');
    expect(await downAlerts()).toEqual([expect.objectContaining({ id: raised.id, open: false, clearedAt: expect.any(String) })]);
  });

  it('raises device-down on a fault, once, and clears it when the device reports idle', async () => {
    hub = await startTestHub();
    fleet = await fleetOn(hub, { only: ['screen-2'] });
    const screen = fleet.workers.get('screen-2')!;
    await screen.report('fault');
    await screen.report('fault');
    await eventually(async () => (await downAlerts('?state=open')).length === 1, 3000, 'raised');
    expect((await downAlerts('?state=open'))[0].message).toBe('screen screen-2 reports a fault');
    await screen.report('idle');
    await eventually(async () => (await downAlerts('?state=open')).length === 0, 3000, 'cleared');
    expect(await downAlerts()).toHaveLength(1);
  });
});

describe('after a hub restart', () => {
  it('raises device-down for a device that was connected before and is not back within deviceReturnSec', async () => {
    let hub = await startTestHub(testConfig({ rules: { deviceReturnSec: 0.8 } }));
    let fleet = await fleetOn(hub, { only: ['robot-1', 'robot-2'] });
    hub = await hub.restart();
    await fleet.disconnect();
    try {
      fleet = await fleetOn(hub, { only: ['robot-2'] });
      const alerts = await eventually(async () => {
        const open = ((await hub.api('GET', '/api/branches/br-1/alerts?state=open')).body as Alert[]).filter((a) => a.type === 'device-down');
        return open.length > 0 && open;
      }, 3000, 'device-down for robot-1');
      expect(alerts.map((a) => [a.subject, a.message])).toEqual([['robot-1', 'robot robot-1 did not come back after the hub restarted']]);
    } finally {
      await fleet.disconnect();
      await hub.close();
    }
  });
});

describe('alerts raised by two flows at once', () => {
  it('are raised once and cleared once', async () => {
    const hub = await startTestHub();
    try {
      const alerts = hub.running.app.get(AlertsService);
      const raise = (message: string) => alerts.raise({ branchId: 'br-1', type: 'device-down', subject: 'robot-1', message, data: {} });
      const raised = await Promise.all([1, 2, 3].map(() => raise('robot robot-1 went offline')));
      expect(new Set(raised.map((a) => a.id)).size).toBe(1);
      await alerts.clear('br-1', 'device-down', 'robot-1');
      await raise('again');
      const all: { open: boolean }[] = (await hub.api('GET', '/api/branches/br-1/alerts')).body;
      expect(all.map((a) => a.open).sort()).toEqual([false, true]);
      // Clearing and raising at once, in either order, never leaves two open alerts for one condition.
      await Promise.all([alerts.clear('br-1', 'device-down', 'robot-1'), raise('once more'), raise('and again')]);
      const open: unknown[] = (await hub.api('GET', '/api/branches/br-1/alerts?state=open')).body;
      expect(open.length).toBeLessThanOrEqual(1);
    } finally {
      await hub.close();
    }
  });
});
