import mqtt, { type MqttClient } from 'mqtt';
import { io } from 'socket.io-client';
import type { Fleet } from '../device-sims/fleet.js';
import { eventually, startTestHub, type TestHub } from './support/hub.js';
import { fleetOn } from './support/fleet.js';

type Summary = { waiting: Record<string, number>; estimatedWaitMin: Record<string, number>; occupancy: Record<string, number>; ts: string };

describe('branch summary: waiting tickets, estimated wait, occupancy', () => {
  let hub: TestHub;
  let fleet: Fleet;
  let screen: MqttClient;
  const seen: Summary[] = [];

  beforeAll(async () => {
    hub = await startTestHub();
    fleet = await fleetOn(hub, { only: ['qms-1', 'cam-1'] });
    screen = await mqtt.connectAsync(hub.mqttUrl, { clientId: 'screen-2', username: 'screen-2', password: 's-screen-2', reconnectPeriod: 0 });
    screen.on('message', (t, p) => t === 'branch/br-1/summary' && seen.push(JSON.parse(p.toString())));
    await screen.subscribeAsync('branch/br-1/summary', { qos: 1 });
  });
  afterAll(async () => {
    await screen.endAsync(true);
    await fleet.disconnect();
    await hub.close();
  });
  const latest = () => seen.at(-1)!;

  it('is retained from the start, so a screen that subscribes gets one at once', async () => {
    await eventually(() => seen.length > 0, 3000, 'retained summary');
    expect(seen[0]).toMatchObject({ waiting: { card: 0, cash: 0 }, estimatedWaitMin: { card: 0, cash: 0 }, occupancy: {} });
  });

  it('counts waiting tickets and estimates waits from the configured service time and open counters', async () => {
    const qms = fleet.queues.get('qms-1')!;
    await qms.openCounters('card', 2);
    for (let i = 0; i < 3; i++) await qms.issue('card');
    await eventually(() => latest().waiting.card === 3, 3000, '3 waiting');
    expect(latest().estimatedWaitMin.card).toBe(12); // 3 × 8 min ÷ 2 counters
    await qms.publish('queue', { event: 'called', ticket: 'A001', service: 'card', counter: '1' });
    await eventually(() => latest().waiting.card === 2, 3000, '2 waiting');
    expect(latest().estimatedWaitMin.card).toBe(8);
  });

  it('replaces the configured service time by the observed one once enough customers were served', async () => {
    const qms = fleet.queues.get('qms-1')!;
    const t0 = Date.now() - 3600_000;
    for (let i = 0; i < 5; i++) {
      const ticket = `C${i}`;
      await qms.publish('queue', { event: 'issued', ticket, service: 'cash', ts: t0 });
      await qms.publish('queue', { event: 'called', ticket, service: 'cash', counter: '2', ts: t0 + i * 600_000 });
      await qms.publish('queue', { event: 'served', ticket, service: 'cash', ts: t0 + i * 600_000 + 3 * 60_000 });
    }
    await qms.issue('cash');
    await qms.issue('cash');
    await eventually(() => latest().waiting.cash === 2, 3000, '2 cash waiting');
    expect(latest().estimatedWaitMin.cash).toBe(6); // 2 × observed 3 min (configured 6) ÷ max(1, unknown counters)
  });

  it('carries occupancy, publishes only on change, and reaches the dashboard as `summary` events', async () => {
    const socket = io(`${hub.httpUrl}/dashboard`, { auth: { token: await hub.token() }, transports: ['websocket'], forceNew: true });
    const events: (Summary & { branchId: string })[] = [];
    socket.on('summary', (s) => events.push(s));
    await new Promise((r) => socket.once('snapshot', r));
    const cam = fleet.sensors.get('cam-1')!;
    await cam.occupancy('waiting', 12);
    await eventually(() => latest().occupancy.waiting === 12, 3000, 'occupancy');
    const count = seen.length;
    await cam.occupancy('waiting', 12); // nothing changed
    await cam.occupancy('entrance', 3);
    await eventually(() => latest().occupancy.entrance === 3, 3000, 'entrance');
    expect(seen.length).toBe(count + 1);
    await eventually(() => events.some((e) => e.branchId === 'br-1' && e.occupancy.entrance === 3), 3000, 'socket summary');
    socket.close();
  });

  it('keeps waiting tickets, open counters, observed service times and the last occupancy across a restart', async () => {
    const before = latest();
    await fleet.disconnect();
    hub = await hub.restart();
    fleet = await fleetOn(hub, { only: ['qms-1', 'cam-1'] });
    const again = await mqtt.connectAsync(hub.mqttUrl, { clientId: 'screen-1', username: 'screen-1', password: 's-screen-1', reconnectPeriod: 0 });
    try {
      const retained = new Promise<Summary>((resolve) => again.on('message', (_t, p) => resolve(JSON.parse(p.toString()))));
      await again.subscribeAsync('branch/br-1/summary', { qos: 1 });
      const after = await retained;
      expect(after.waiting).toEqual(before.waiting);
      expect(after.estimatedWaitMin).toEqual(before.estimatedWaitMin);
      expect(after.occupancy).toEqual(before.occupancy);
      expect(Object.keys(after.occupancy).length).toBeGreaterThan(0);
    } finally {
      await again.endAsync();
    }
  });
});
