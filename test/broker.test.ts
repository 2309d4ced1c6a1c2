import mqtt, { type MqttClient } from 'mqtt';
import { generate, parser as mqttParser } from 'mqtt-packet';
import { connect as tcpConnect } from 'node:net';
import { connectFleet } from '../device-sims/fleet.js';
import { SensorSim } from '../device-sims/sensor.js';
import { eventually, startTestHub, type TestHub } from './support/hub.js';

/** A counter or gauge from /metrics: the sum of the series whose labels include `labels`. */
async function metric(hub: TestHub, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await fetch(`${hub.httpUrl}/metrics`).then((r) => r.text());
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = line.match(/^(\w+)(\{[^}]*\})? ([\d.e+-]+)$/);
    if (!m || m[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

/** Connects as a raw MQTT client; resolves with the client or rejects with the CONNACK error. */
function connect(url: string, opts: mqtt.IClientOptions): Promise<MqttClient> {
  return mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 3000, ...opts });
}

/** Granted QoS per filter; MQTT.js rejects a SUBACK holding 0x80, so read it off the error. */
async function granted(c: MqttClient, filters: string | string[]): Promise<number[]> {
  try {
    return (await c.subscribeAsync(filters, { qos: 1 })).map((g) => g.qos);
  } catch (e) {
    return (e as { packet: { granted: number[] } }).packet.granted;
  }
}

/**
 * CONNECT with clean session = 0, sent as raw bytes: MQTT.js and mqtt-packet refuse to encode it with an
 * empty client id, so it is encoded with clean = 1 and the flag cleared (connect-flags byte, bit 1).
 */
function rawConnack(port: number, packet: object): Promise<number> {
  const bytes = generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, keepalive: 10, clean: true, ...packet } as never);
  bytes[9] &= ~0x02; // fixed header (2) + "MQTT" (6) + level (1) → connect flags
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(port, '127.0.0.1', () => socket.write(bytes));
    const p = mqttParser();
    p.on('packet', (pkt) => {
      socket.destroy();
      resolve((pkt as { returnCode: number }).returnCode);
    });
    socket.on('data', (d) => p.parse(d));
    socket.on('error', reject);
  });
}

describe('embedded broker: authentication, ACL, presence', () => {
  let hub: TestHub;
  const clients: MqttClient[] = [];
  const track = (c: MqttClient) => (clients.push(c), c);

  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  });
  afterAll(() => hub.close());

  describe('authentication', () => {
    it.each([
      ['TCP', () => hub.mqttUrl],
      ['WebSocket', () => hub.wsUrl],
    ])('accepts a device with its id and secret over %s (MQTT 3.1.1)', async (_, url) => {
      const c = track(await connect(url(), { clientId: 'robot-1', username: 'robot-1', password: 's-robot-1', protocolVersion: 4 }));
      expect(c.connected).toBe(true);
    });

    it('accepts MQTT 3.1 too', async () => {
      const c = track(await connect(hub.mqttUrl, { clientId: 'robot-2', username: 'robot-2', password: 's-robot-2', protocolVersion: 3, protocolId: 'MQIsdp' }));
      expect(c.connected).toBe(true);
    });

    it.each([
      ['wrong secret', { clientId: 'robot-1', username: 'robot-1', password: 'nope' }],
      ['unknown device', { clientId: 'robot-9', username: 'robot-9', password: 's-robot-1' }],
      ['username other than the client id', { clientId: 'robot-1', username: 'robot-2', password: 's-robot-2' }],
      ['no password', { clientId: 'robot-1', username: 'robot-1' }],
      ['empty client id (clean session)', { clientId: '', username: 'robot-1', password: 's-robot-1', clean: true }],
    ])('refuses %s with CONNACK 5 (not authorized)', async (_, opts) => {
      await expect(connect(hub.mqttUrl, opts)).rejects.toMatchObject({ code: 5 });
    });

    it('refuses an empty client id with a persistent session (MQTT-3.1.3-8), which aedes alone would accept', async () => {
      const port = Number(new URL(hub.mqttUrl).port);
      expect(await rawConnack(port, { clientId: '', username: 'robot-1', password: Buffer.from('s-robot-1') })).toBe(5);
      expect(await rawConnack(port, { clientId: 'robot-1', username: 'robot-1', password: Buffer.from('s-robot-1') })).toBe(0);
    });

    it('refuses a wrong secret over WebSocket too', async () => {
      await expect(connect(hub.wsUrl, { clientId: 'robot-1', username: 'robot-1', password: 'nope' })).rejects.toMatchObject({ code: 5 });
    });

    it('accepts client ids of 64 characters', async () => {
      const id = 'd'.repeat(64);
      const long = await startTestHub({
        ...hub.config,
        branches: [{ ...hub.config.branches[0], devices: [{ id, kind: 'sensor', secret: 'x', zone: 'entrance', capabilities: [], services: [] }] }],
      });
      try {
        const c = await connect(long.mqttUrl, { clientId: id, username: id, password: 'x', protocolVersion: 3, protocolId: 'MQIsdp' });
        expect(c.connected).toBe(true);
        await c.endAsync();
      } finally {
        await long.close();
      }
    });
  });

  describe('ACL', () => {
    const login = (id: string) => connect(hub.mqttUrl, { clientId: id, username: id, password: `s-${id}` }).then(track);

    it('lets a device subscribe to its own cmd and error, its branch presence and summary', async () => {
      const c = await login('robot-1');
      const qos = await granted(c, ['branch/br-1/devices/robot-1/cmd', 'branch/br-1/devices/robot-1/error', 'branch/br-1/presence/#', 'branch/br-1/presence/+', 'branch/br-1/summary']);
      expect(qos).toEqual([1, 1, 1, 1, 1]);
    });

    it.each([
      'branch/br-1/devices/robot-2/cmd',
      'branch/br-1/devices/robot-2/error',
      'branch/br-1/devices/+/cmd',
      'branch/br-1/devices/robot-1/state',
      'branch/br-1/#',
      'branch/+/presence/#',
      'branch/br-2/presence/#',
      'branch/br-2/summary',
      '#',
      '$SYS/#',
    ])('refuses a subscription to %s with 0x80', async (filter) => {
      const c = await login('robot-1');
      expect(await granted(c, [filter, 'branch/br-1/devices/robot-1/cmd'])).toEqual([128, 1]);
    });

    it('delivers presence of other devices to a subscribed device, and never another device\'s commands', async () => {
      const spy = await login('screen-1');
      expect(await granted(spy, ['branch/br-1/devices/robot-1/cmd', 'branch/br-1/presence/robot-2'])).toEqual([128, 1]);
      const seen: string[] = [];
      spy.on('message', (t) => seen.push(t));
      const robot2 = await login('robot-2');
      await eventually(() => seen.includes('branch/br-1/presence/robot-2'), 3000, 'presence of robot-2');
      // robot-1 is connected and really gets a command: the spy, refused that topic, must not.
      const robot1 = await login('robot-1');
      const commands: string[] = [];
      robot1.on('message', (t) => commands.push(t));
      await robot1.subscribeAsync('branch/br-1/devices/robot-1/cmd', { qos: 1 });
      await robot1.publishAsync('branch/br-1/devices/robot-1/state', JSON.stringify({ status: 'idle' }), { qos: 1 });
      await hub.settle(); // earlier logins of robot-1 were taken over: their presence news has landed
      expect((await hub.api('GET', '/api/branches/br-1/devices')).body.find((d: { id: string }) => d.id === 'robot-1')).toMatchObject({ online: true, status: 'idle' });
      const res = await hub.api('POST', '/api/branches/br-1/tasks', { type: 'announce', deviceId: 'robot-1', params: { text: 'hi', lang: 'en' } });
      expect(res.body).toMatchObject({ state: 'dispatched', deviceId: 'robot-1' });
      await eventually(() => commands.includes('branch/br-1/devices/robot-1/cmd'), 3000, 'robot-1 got its command');
      await robot2.publishAsync('branch/br-1/devices/robot-2/state', JSON.stringify({ status: 'idle' }), { qos: 1 });
      await hub.settle();
      expect(seen).not.toContain('branch/br-1/devices/robot-1/cmd');
    });

    it('accepts a device publishing on each of its own uplink topics', async () => {
      const kinds = ['state', 'footfall', 'occupancy', 'post', 'queue', 'ack', 'event'];
      const before = await Promise.all(kinds.map((kind) => metric(hub, 'hub_mqtt_messages_in_total', { kind })));
      const cam = await login('cam-1');
      for (const kind of kinds) await cam.publishAsync(`branch/br-1/devices/cam-1/${kind}`, '{}', { qos: 1 });
      await hub.settle();
      expect(cam.connected).toBe(true);
      // Each reached the hub (and, being empty, was answered on error): none was stopped by the ACL.
      const after = await Promise.all(kinds.map((kind) => metric(hub, 'hub_mqtt_messages_in_total', { kind })));
      expect(after.map((n, i) => n - before[i])).toEqual(kinds.map(() => 1));
    });

    it.each([
      ['another device\'s state', 'branch/br-1/devices/robot-2/state'],
      ['its own cmd topic', 'branch/br-1/devices/robot-1/cmd'],
      ['its own error topic', 'branch/br-1/devices/robot-1/error'],
      ['presence', 'branch/br-1/presence/robot-1'],
      ['summary', 'branch/br-1/summary'],
      ['another branch', 'branch/br-2/devices/robot-1/state'],
      ['an unknown kind', 'branch/br-1/devices/robot-1/firmware'],
    ])('refuses a publish to %s: nothing is delivered or acted on', async (_, topic) => {
      const watcher = await login('robot-2');
      const heard: string[] = [];
      watcher.on('message', (t, payload) => heard.push(`${t} ${payload}`));
      await watcher.subscribeAsync(['branch/br-1/presence/#', 'branch/br-1/summary'], { qos: 1 });
      await watcher.publishAsync('branch/br-1/devices/robot-2/state', JSON.stringify({ status: 'busy', battery: 64 }), { qos: 1 });
      await hub.settle();
      const device = async () => (await hub.api('GET', '/api/branches/br-1/devices')).body.find((d: { id: string }) => d.id === 'robot-2');
      expect(await device()).toMatchObject({ status: 'busy', battery: 64 });
      const denied = await metric(hub, 'hub_mqtt_acl_denied_total', { action: 'publish' });
      const received = await metric(hub, 'hub_mqtt_messages_in_total');
      const bad = await login('robot-1');
      await bad.subscribeAsync(['branch/br-1/devices/robot-1/cmd', 'branch/br-1/devices/robot-1/error'], { qos: 1 });
      bad.on('message', (t, payload) => heard.push(`${t} ${payload}`));
      const closed = new Promise<void>((r) => bad.once('close', () => r()));
      bad.publish(topic, JSON.stringify({ status: 'fault', online: false, waiting: { card: 99 }, refused: 'yes' }), { qos: 0 });
      await closed; // MQTT 3.1.1 allows closing the connection of a refused publish; aedes does.
      await hub.settle();
      expect(await device()).toMatchObject({ status: 'busy', battery: 64 });
      expect(await metric(hub, 'hub_mqtt_acl_denied_total', { action: 'publish' })).toBe(denied + 1);
      expect(await metric(hub, 'hub_mqtt_messages_in_total')).toBe(received);
      // The hub's own presence and summary news may follow (robot-1 came and went); never the refused message.
      expect(heard.filter((m) => m.includes('"refused":"yes"'))).toEqual([]);
    });
  });

  it('survives malformed WebSocket upgrade requests on the HTTP port', async () => {
    const port = Number(new URL(hub.httpUrl).port);
    for (const target of ['//', '//mqtt', '/mqtt?x', 'http://[bad']) {
      await new Promise<void>((resolve) => {
        const socket = tcpConnect(port, '127.0.0.1', () =>
          socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`),
        );
        socket.on('data', () => socket.destroy());
        socket.on('close', () => resolve());
        socket.on('error', () => resolve());
        setTimeout(() => socket.destroy(), 1500);
      });
    }
    expect((await hub.api('GET', '/api/health', undefined, null)).status).toBe(200);
  });

  describe('presence', () => {
    const presenceOf = async (id: string) => (await hub.api('GET', '/api/branches/br-1/devices')).body.find((d: { id: string }) => d.id === id);

    it('publishes retained presence online and offline, each after the registry says the same', async () => {
      const watcher = track(await connect(hub.mqttUrl, { clientId: 'robot-2', username: 'robot-2', password: 's-robot-2' }));
      const said: { online: boolean; since: string }[] = [];
      watcher.on('message', (t, p) => t === 'branch/br-1/presence/cam-1' && said.push(JSON.parse(p.toString())));
      await watcher.subscribeAsync('branch/br-1/presence/cam-1', { qos: 1 });
      const cam = await new SensorSim({ branchId: 'br-1', id: 'cam-1', secret: 's-cam-1', kind: 'sensor', zone: 'entrance' }).connect({ url: hub.mqttUrl });
      const up = await eventually(() => said.find((m) => m.online), 3000, 'online presence');
      expect(await presenceOf('cam-1')).toMatchObject({ online: true, since: up.since });

      cam.kill(); // power loss: no DISCONNECT packet
      const gone = await eventually(() => said.find((m) => !m.online && m.since > up.since), 3000, 'offline presence');
      expect(new Date(gone.since).getTime()).toBeGreaterThan(hub.running.clock.now() - 5000);
      expect(await presenceOf('cam-1')).toMatchObject({ online: false, since: gone.since });

      // Retained: a device subscribing later learns the last word.
      const late = track(await connect(hub.mqttUrl, { clientId: 'screen-2', username: 'screen-2', password: 's-screen-2' }));
      const retained = new Promise<{ online: boolean; since: string }>((resolve) =>
        late.on('message', (t, p, pkt) => t === 'branch/br-1/presence/cam-1' && pkt.retain && resolve(JSON.parse(p.toString()))),
      );
      await late.subscribeAsync('branch/br-1/presence/cam-1', { qos: 1 });
      expect(await retained).toEqual(gone);
    });

    it.each(['branch/br-1/presence/+', 'branch/br-1/presence/#'])('hands %s the retained presence of every device of the branch, once each', async (filter) => {
      const c = track(await connect(hub.mqttUrl, { clientId: 'screen-1', username: 'screen-1', password: 's-screen-1' }));
      await hub.settle(); // its own presence is out
      const got: [string, { online: boolean }][] = [];
      c.on('message', (t, p, pkt) => pkt.retain && got.push([t, JSON.parse(p.toString())]));
      await c.subscribeAsync(filter, { qos: 1 });
      const ids = hub.config.branches[0].devices.map((d) => d.id);
      await eventually(() => got.length >= ids.length, 3000, 'retained presence of every device');
      expect(got.map(([t]) => t).sort()).toEqual(ids.map((id) => `branch/br-1/presence/${id}`).sort());
      expect(Object.fromEntries(got)['branch/br-1/presence/screen-1']).toMatchObject({ online: true });
    });

    it('ends online, in the registry and in retained presence, after a burst of take-over reconnects', async () => {
      const connects = [];
      for (let i = 0; i < 15; i++) connects.push(connect(hub.mqttUrl, { clientId: 'kiosk-1', username: 'kiosk-1', password: 's-kiosk-1' }).then(track, () => null));
      await Promise.all(connects);
      const last = track(await connect(hub.mqttUrl, { clientId: 'kiosk-1', username: 'kiosk-1', password: 's-kiosk-1' }));
      const watcher = track(await connect(hub.mqttUrl, { clientId: 'robot-2', username: 'robot-2', password: 's-robot-2' }));
      // Every stale close has been handled once the hub has settled.
      await hub.settle();
      expect(last.connected).toBe(true);
      expect(await presenceOf('kiosk-1')).toMatchObject({ online: true });
      const retained = new Promise<{ online: boolean }>((resolve) => watcher.on('message', (t, p) => t === 'branch/br-1/presence/kiosk-1' && resolve(JSON.parse(p.toString()))));
      await watcher.subscribeAsync('branch/br-1/presence/kiosk-1', { qos: 1 });
      expect(await retained).toMatchObject({ online: true });
    });

    it('stays online after a take-over reconnect (the broker closes the old connection)', async () => {
      const watcher = track(await connect(hub.mqttUrl, { clientId: 'robot-2', username: 'robot-2', password: 's-robot-2' }));
      const said: boolean[] = [];
      watcher.on('message', (t, p) => t === 'branch/br-1/presence/screen-2' && said.push(JSON.parse(p.toString()).online));
      await watcher.subscribeAsync('branch/br-1/presence/screen-2', { qos: 1 });
      const first = track(await connect(hub.mqttUrl, { clientId: 'screen-2', username: 'screen-2', password: 's-screen-2' }));
      await eventually(() => said.at(-1), 3000, 'screen-2 online, as retained presence says');
      const firstClosed = new Promise<void>((r) => first.once('close', () => r()));
      // The same device again: the broker takes the session over and closes the first socket.
      const before = said.length;
      const second = track(await connect(hub.mqttUrl, { clientId: 'screen-2', username: 'screen-2', password: 's-screen-2' }));
      await firstClosed;
      // Retained presence follows the registry: once the take-over's online message is out, both say online.
      await eventually(() => said.length > before && said.at(-1), 3000, 'presence after the take-over');
      expect(second.connected).toBe(true);
      expect(await presenceOf('screen-2')).toMatchObject({ online: true });
      const metrics = await fetch(`${hub.httpUrl}/metrics`).then((r) => r.text());
      expect(metrics).toMatch(/hub_connected_devices\{branch="br-1"\} [1-9]/);
    });

    it('keeps the connected-devices gauge at the number of devices online, through take-overs and disconnects', async () => {
      const login = (id: string) => connect(hub.mqttUrl, { clientId: id, username: id, password: `s-${id}` }).then(track);
      const online = async () => (await hub.api('GET', '/api/branches/br-1/devices')).body.filter((d: { online: boolean }) => d.online).length;
      const gaugeIsOnline = async (n: number) => {
        await hub.settle();
        const gauge = await metric(hub, 'hub_connected_devices', { branch: 'br-1' });
        return gauge === n && (await online()) === n;
      };
      await eventually(async () => (await online()) === 0, 3000, 'earlier tests\' devices gone');
      await login('robot-1');
      await login('cam-1');
      await eventually(() => gaugeIsOnline(2), 3000, 'gauge 2');
      // A burst of take-overs (the same device again and again): still two.
      await Promise.all(Array.from({ length: 10 }, () => login('robot-1').catch(() => null)));
      await login('robot-1');
      await eventually(() => gaugeIsOnline(2), 3000, 'gauge 2 after the take-overs');
      await Promise.all(clients.splice(0).map((c) => c.endAsync()));
      await eventually(() => gaugeIsOnline(0), 3000, 'gauge 0');
    });

    it('reports every device of a connected fleet online', async () => {
      const fleet = await connectFleet(hub.config, { url: hub.wsUrl });
      try {
        await eventually(async () => (await hub.api('GET', '/api/branches/br-1/devices')).body.every((d: { online: boolean }) => d.online), 3000, 'all online');
      } finally {
        await fleet.disconnect();
      }
      await eventually(async () => (await hub.api('GET', '/api/branches/br-1/devices')).body.every((d: { online: boolean }) => !d.online), 3000, 'all offline');
    });
  });
});
