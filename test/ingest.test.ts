import mqtt, { type MqttClient } from 'mqtt';
import { eventually, startTestHub, type TestHub } from './support/hub.js';

type ErrorAnswer = { code: string; detail: string; topic: string };

describe('validated ingest: every bad message is answered on error, counted, and changes nothing', () => {
  let hub: TestHub;
  let cam: MqttClient;
  let qms: MqttClient;
  let robot: MqttClient;
  const errors: Record<string, ErrorAnswer[]> = { 'cam-1': [], 'qms-1': [], 'robot-1': [] };

  const device = async (id: string) => {
    const c = await mqtt.connectAsync(hub.mqttUrl, { clientId: id, username: id, password: `s-${id}`, reconnectPeriod: 0 });
    await c.subscribeAsync(`branch/br-1/devices/${id}/error`, { qos: 1 });
    c.on('message', (_t, p) => errors[id].push(JSON.parse(p.toString())));
    return c;
  };
  const registry = async (id: string) => (await hub.api('GET', '/api/branches/br-1/devices')).body.find((d: { id: string }) => d.id === id);
  const metric = async (re: RegExp) => Number(((await fetch(`${hub.httpUrl}/metrics`).then((r) => r.text())).match(re) ?? [])[1] ?? 0);

  beforeAll(async () => {
    hub = await startTestHub();
    [cam, qms, robot] = await Promise.all(['cam-1', 'qms-1', 'robot-1'].map(device));
  });
  afterAll(async () => {
    await Promise.all([cam, qms, robot].map((c) => c.endAsync()));
    await hub.close();
  });

  it('takes a valid state into the registry (status, zone, battery)', async () => {
    await robot.publishAsync('branch/br-1/devices/robot-1/state', JSON.stringify({ status: 'busy', zone: 'waiting', battery: 64, ts: Date.now() }), { qos: 1 });
    await eventually(async () => (await registry('robot-1')).status === 'busy', 3000, 'state applied');
    expect(await registry('robot-1')).toMatchObject({ status: 'busy', zone: 'waiting', battery: 64, online: true });
  });

  const big = JSON.stringify({ status: 'idle', pad: 'x'.repeat(65 * 1024) });
  it.each([
    ['robot-1', 'state', '{"status":', 'invalid-json'],
    ['robot-1', 'state', '[1,2]', 'invalid-payload'],
    ['robot-1', 'state', '"idle"', 'invalid-payload'],
    ['robot-1', 'state', JSON.stringify({ status: 'sleeping' }), 'invalid-payload'],
    ['robot-1', 'state', JSON.stringify({ status: 'idle', battery: 140 }), 'invalid-payload'],
    ['robot-1', 'state', JSON.stringify({ status: 'idle', battery: '50' }), 'invalid-payload'],
    ['robot-1', 'state', JSON.stringify({ status: 'idle', zone: 'roof' }), 'invalid-payload', 'zone'],
    ['robot-1', 'state', JSON.stringify({ status: 'idle', ts: 'yesterday' }), 'invalid-payload'],
    ['robot-1', 'state', JSON.stringify({ status: 'fault', ts: 9e15 }), 'invalid-payload', 'ts'],
    ['qms-1', 'queue', JSON.stringify({ event: 'issued', ticket: 'Z9', service: 'card', ts: 1 }), 'invalid-payload', 'ts'],
    ['robot-1', 'state', big, 'payload-too-large'],
    ['cam-1', 'footfall', JSON.stringify({ direction: 'sideways' }), 'invalid-payload'],
    ['cam-1', 'footfall', JSON.stringify({ direction: 'in', count: -2 }), 'invalid-payload'],
    ['cam-1', 'footfall', JSON.stringify({ direction: 'in', zone: 'roof' }), 'invalid-payload', 'zone'],
    ['cam-1', 'occupancy', JSON.stringify({ zone: 'waiting' }), 'invalid-payload'],
    ['cam-1', 'occupancy', JSON.stringify({ zone: 'roof', count: 3 }), 'invalid-payload', 'zone'],
    ['cam-1', 'post', JSON.stringify({ post: 'counter-9', staffed: true }), 'invalid-payload'],
    ['cam-1', 'post', JSON.stringify({ post: 'counter-1', staffed: 'yes' }), 'invalid-payload'],
    ['qms-1', 'queue', JSON.stringify({ event: 'issued', ticket: 'A1', service: 'mortgage' }), 'invalid-payload', 'service'],
    ['qms-1', 'queue', JSON.stringify({ event: 'teleported', ticket: 'A1', service: 'card' }), 'invalid-payload'],
    ['qms-1', 'queue', JSON.stringify({ event: 'counters', service: 'card', open: -1 }), 'invalid-payload'],
    ['robot-1', 'ack', JSON.stringify({ taskId: 'no-such-task', state: 'accepted' }), 'unknown-task'],
    ['robot-1', 'ack', JSON.stringify({ taskId: 'x', state: 'done' }), 'invalid-payload'],
  ] as [string, string, string, string, string?][])('%s %s case %# → %s', async (...[id, kind, payload, code, field]) => {
    const client = { 'cam-1': cam, 'qms-1': qms, 'robot-1': robot }[id]!;
    const topic = `branch/br-1/devices/${id}/${kind}`;
    const before = await registry('robot-1');
    const counted = await metric(new RegExp(`hub_mqtt_rejected_total\\{device="${id}",reason="${code}"\\} (\\d+)`));
    const seen = errors[id].length;
    await client.publishAsync(topic, payload, { qos: 1 });
    const answer = await eventually(() => errors[id].slice(seen).find((e) => e.topic === topic), 3000, `error answer for ${topic}`);
    expect(answer).toMatchObject({ code, topic });
    expect(answer.detail.length).toBeGreaterThan(0);
    if (field) expect(answer.detail).toMatch(new RegExp(`^${field}: `));
    expect(await metric(new RegExp(`hub_mqtt_rejected_total\\{device="${id}",reason="${code}"\\} (\\d+)`))).toBe(counted + 1);
    expect(await registry('robot-1')).toMatchObject({ status: before.status, zone: before.zone, battery: before.battery });
    // The same device, and every other, is still served.
    expect(client.connected).toBe(true);
    await robot.publishAsync('branch/br-1/devices/robot-1/state', JSON.stringify({ status: 'idle', zone: 'entrance', battery: 63 }), { qos: 1 });
    await eventually(async () => (await registry('robot-1')).battery === 63, 3000, 'robot still served');
    await robot.publishAsync('branch/br-1/devices/robot-1/state', JSON.stringify({ status: 'busy', zone: 'waiting', battery: 64 }), { qos: 1 });
    await eventually(async () => (await registry('robot-1')).battery === 64, 3000, 'robot still served');
  });

  it('names the bad field in the answer', async () => {
    const seen = errors['cam-1'].length;
    await cam.publishAsync('branch/br-1/devices/cam-1/occupancy', JSON.stringify({ zone: 'waiting', count: 'many' }), { qos: 1 });
    const answer = await eventually(() => errors['cam-1'][seen], 3000, 'answer');
    expect(answer.detail).toMatch(/^count: /);
  });

  it('counts messages in by topic kind', async () => {
    const before = await metric(/hub_mqtt_messages_in_total\{kind="occupancy"\} (\d+)/);
    await cam.publishAsync('branch/br-1/devices/cam-1/occupancy', JSON.stringify({ zone: 'waiting', count: 4 }), { qos: 1 });
    await eventually(async () => (await metric(/hub_mqtt_messages_in_total\{kind="occupancy"\} (\d+)/)) === before + 1, 3000, 'counted');
  });

  it("handles each device's messages in the order it sent them, also when they arrive together", async () => {
    // No waiting between publishes: MQTT.js writes them back to back and the broker hands one socket read's packets over at once.
    const summaries: { waiting: Record<string, number>; occupancy: Record<string, number> }[] = [];
    cam.on('message', (t, p) => t === 'branch/br-1/summary' && summaries.push(JSON.parse(p.toString())));
    await cam.subscribeAsync('branch/br-1/summary', { qos: 1 });
    const sent: Promise<unknown>[] = [];
    for (let n = 1; n <= 60; n++) {
      sent.push(robot.publishAsync('branch/br-1/devices/robot-1/state', JSON.stringify({ status: 'idle', battery: n }), { qos: 1 }));
      sent.push(cam.publishAsync('branch/br-1/devices/cam-1/occupancy', JSON.stringify({ zone: 'counters', count: n }), { qos: 1 }));
      // Each ticket is called right after the next one is issued: a call taken before its issue would leave it waiting.
      sent.push(qms.publishAsync('branch/br-1/devices/qms-1/queue', JSON.stringify({ event: 'issued', ticket: `R${n}`, service: 'cash' }), { qos: 1 }));
      if (n > 1) sent.push(qms.publishAsync('branch/br-1/devices/qms-1/queue', JSON.stringify({ event: 'called', ticket: `R${n - 1}`, service: 'cash', counter: 'counter-1' }), { qos: 1 }));
    }
    await Promise.all(sent);
    await hub.settle();
    expect(await registry('robot-1')).toMatchObject({ battery: 60 });
    const last = await eventually(() => summaries.find((s) => s.occupancy.counters === 60 && s.waiting.cash === 1), 5000, 'summary of the last messages');
    expect(last).toMatchObject({ occupancy: { counters: 60 }, waiting: { cash: 1 } });
  });
});
