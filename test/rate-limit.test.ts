import mqtt, { type MqttClient } from 'mqtt';
import type { ErrorPayload } from '../src/contracts/payloads.js';
import { Branches } from '../src/branch/branches.service.js';
import { eventually, startTestHub, testConfig, type TestHub } from './support/hub.js';

describe('a device over maxMsgPerSec (contract section 3): the excess dropped, counted, told once a second; every other device served', () => {
  let hub: TestHub;
  let cam: MqttClient;
  let robot: MqttClient;
  const told: ErrorPayload[] = [];
  const metric = async (re: RegExp) => Number(((await fetch(`${hub.httpUrl}/metrics`).then((r) => r.text())).match(re) ?? [])[1] ?? 0);
  const device = (id: string) => mqtt.connectAsync(hub.mqttUrl, { clientId: id, username: id, password: `s-${id}`, reconnectPeriod: 0 });
  const analyticsPage = async () => (await hub.api('GET', '/api/branches/br-1/analytics')).status;

  beforeAll(async () => {
    hub = await startTestHub(testConfig({ rules: { maxMsgPerSec: 20 } }));
    [cam, robot] = await Promise.all([device('cam-1'), device('robot-1')]);
    await cam.subscribeAsync('branch/br-1/devices/cam-1/error', { qos: 1 });
    cam.on('message', (_t, p) => told.push(JSON.parse(p.toString())));
  });
  afterAll(async () => {
    await Promise.all([cam.endAsync(), robot.endAsync()]);
    await hub.close();
  });

  it('takes 5 s of the rate at once, drops the rest of a flood, and says so once', async () => {
    const before = await metric(/hub_mqtt_rejected_total\{device="cam-1",reason="rate-limited"\} (\d+)/);
    const sent = Array.from({ length: 300 }, (_, n) => cam.publishAsync('branch/br-1/devices/cam-1/track', JSON.stringify({ track: `t${n}`, zone: 'waiting', event: 'enter' }), { qos: 1 }));
    await Promise.all(sent);
    await hub.settle();
    const dropped = (await metric(/hub_mqtt_rejected_total\{device="cam-1",reason="rate-limited"\} (\d+)/)) - before;
    // 100 taken (5 s of 20 a second), give or take what the hub's clock refilled while they came in.
    expect(dropped).toBeGreaterThanOrEqual(300 - 100 - 20);
    expect(dropped).toBeLessThanOrEqual(200);
    const answer = await eventually(() => told.find((e) => e.code === 'rate-limited'), 3000, 'rate-limited answer');
    expect(answer).toMatchObject({ topic: 'branch/br-1/devices/cam-1/track', detail: expect.stringMatching(/^over 20 messages a second/) });
    expect(told.filter((e) => e.code === 'rate-limited').length).toBeLessThanOrEqual(2); // once a second, not once a message
    expect(await analyticsPage()).toBe(200);
  });

  it('serves every other device meanwhile, and the flooding one again once its rate drops', async () => {
    await robot.publishAsync('branch/br-1/devices/robot-1/state', JSON.stringify({ status: 'busy', battery: 77 }), { qos: 1 });
    await eventually(async () => (await hub.api('GET', '/api/branches/br-1/devices')).body.find((d: { id: string }) => d.id === 'robot-1')?.battery === 77, 3000, 'robot served');
    // A token comes back every 50 ms of the hub's clock: asked again until one is taken, not slept.
    const model = hub.running.app.get(Branches).get('br-1').model;
    let count = 100;
    await eventually(async () => {
      count++;
      await cam.publishAsync('branch/br-1/devices/cam-1/occupancy', JSON.stringify({ zone: 'waiting', count }), { qos: 1 });
      await hub.settle();
      return model.peopleIn('waiting') === count;
    }, 3000, 'cam-1 taken again');
  });
});
