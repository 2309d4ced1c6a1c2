import type { Fleet } from '../device-sims/fleet.js';
import { HqSim } from '../device-sims/hq.js';
import type { HubConfig } from '../src/config/config.schema.js';
import { fleetOn } from './support/fleet.js';
import { eventually, startTestHub, testConfig, type TestHub } from './support/hub.js';
import { startMosquitto, type Mosquitto } from './support/mosquitto.js';

/**
 * Issue 11: the hub as a client of headquarters' broker — a real Mosquitto on a free port with its own
 * persistence, HQ played by `HqSim` (a persistent-session MQTT.js client). The hub runs in this process.
 */
const withUplink = (url: string, extra: Partial<NonNullable<HubConfig['uplink']>> = {}): HubConfig => ({
  ...testConfig(),
  uplink: { url, clientId: 'hub-test', kpiIntervalSec: 0.5, maxBacklog: 100_000, ...extra },
});

describe('uplink to headquarters', () => {
  let broker: Mosquitto;
  let hq: HqSim;
  let hub: TestHub;
  let fleet: Fleet;

  beforeAll(async () => {
    broker = await startMosquitto();
    hq = await HqSim.connect(broker.url, { clientId: 'hq-test' });
    hub = await startTestHub(withUplink(broker.url));
    fleet = await fleetOn(hub);
  });
  afterAll(async () => {
    await fleet?.disconnect();
    await hub?.close();
    await hq?.disconnect();
    await broker?.close();
  });

  const events = () => hq.seen('br-1').events;
  const vip = async () => {
    const before = events().length;
    await fleet.sensors.get('cam-1')!.arrive({ segment: 'vip' });
    return hq.waitFor(() => events().slice(before).find((e) => e.kind === 'alert-raised' && e.type === 'vip-arrival'), 5000, 'a vip-arrival alert at HQ');
  };

  it('says the branch is online (retained) and sends KPIs every kpiIntervalSec', async () => {
    await hq.waitFor(() => hq.seen('br-1').status?.online === true, 5000, 'online status');
    const kpi = await hq.waitFor(() => hq.seen('br-1').kpi, 5000, 'a kpi');
    expect(kpi).toMatchObject({ waiting: { card: 0, cash: 0 }, devices: { online: 7, total: 7 }, openAlerts: expect.any(Number), footfallToday: expect.any(Number) });
    expect(kpi.busyness).toBeGreaterThanOrEqual(0);
    expect(kpi.busyness).toBeLessThanOrEqual(1);
    const first = String(kpi.ts);
    await hq.waitFor(() => String(hq.seen('br-1').kpi?.ts) > first, 3000, 'the next kpi');
  });

  it('sends alerts raised and cleared as numbered events, in order', async () => {
    const raised = await vip();
    const ack = await hub.api('POST', `/api/alerts/${raised.alertId}/ack`);
    expect(ack.status).toBe(200);
    await hq.waitFor(() => events().find((e) => e.kind === 'alert-cleared' && e.alertId === raised.alertId), 5000, 'alert-cleared');
    const report = hq.seqReport('br-1');
    expect(report).toMatchObject({ gaps: [], outOfOrder: [] });
    expect(events()[0].seq).toBe(1);
    expect(events().map((e) => e.seq)).toEqual(events().map((_, i) => i + 1));
    // Sent and acknowledged: nothing waits in the outbox.
    await eventually(async () => /hub_uplink_backlog\{branch="br-1"\} 0/.test(await fetch(`${hub.httpUrl}/metrics`).then((r) => r.text())), 3000, 'backlog 0');
  });

  it('keeps events while headquarters is unreachable and sends them, in order, when it is back', async () => {
    await broker.stop();
    const before = events().length;
    // Three alerts while HQ's broker is down (conduct findings in three zones: three conditions): they wait in the hub's database.
    for (const zone of ['waiting', 'counters', 'self-service']) await fleet.sensors.get('cam-1')!.publish('conduct', { type: 'other', zone, detail: 'outage test' });
    await eventually(async () => /hub_uplink_backlog\{branch="br-1"\} [1-9]/.test(await fetch(`${hub.httpUrl}/metrics`).then((r) => r.text())), 5000, 'a backlog');
    await broker.restart();
    await hq.reconnect();
    await hq.waitFor(() => events().slice(before).filter((e) => e.kind === 'alert-raised' && e.type === 'conduct').length >= 3, 15_000, 'the three alerts after the outage');
    expect(hq.seqReport('br-1')).toMatchObject({ gaps: [], outOfOrder: [] });
  });
});
