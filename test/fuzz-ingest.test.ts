import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import fc from 'fast-check';
import mqtt, { type MqttClient } from 'mqtt';
import { ERROR_CODES, uplinkSchemas, type ErrorPayload } from '../src/contracts/payloads.js';
import { DEVICE_UPLINK, type UplinkKind } from '../src/contracts/topics.js';
import { eventually, startTestHub, testConfig, type TestHub } from './support/hub.js';

/** A valid payload of each kind, for the generator to break one field of. */
const VALID: Record<UplinkKind, Record<string, unknown>> = {
  state: { status: 'idle', zone: 'waiting', battery: 80, ts: '2026-12-03T09:00:00+08:00' },
  footfall: { direction: 'in', count: 1, zone: 'entrance', segment: 'vip' },
  occupancy: { zone: 'waiting', count: 3 },
  post: { post: 'counter-1', staffed: false },
  track: { track: 't-1', zone: 'waiting', event: 'enter' },
  conduct: { type: 'other', zone: 'waiting', detail: 'x' },
  queue: { event: 'issued', ticket: 'F1', service: 'card' },
  ack: { taskId: 'no-such-task', state: 'accepted' },
  event: { name: 'door' },
};
const DEVICES = ['robot-1', 'cam-1', 'qms-1'] as const;

/** What a device might send on a kind's topic: its valid payload with one field broken or removed (most often), any JSON, odd bytes, or too much. */
const payloadOf = (kind: UplinkKind) =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .record({ field: fc.constantFrom(...Object.keys(VALID[kind]), 'ts', '__proto__', 'constructor', 'extra'), value: fc.option(fc.jsonValue(), { nil: undefined }) })
        .map(({ field, value }) => {
          const p: Record<string, unknown> = { ...VALID[kind] };
          if (value === undefined) delete p[field];
          else Object.defineProperty(p, field, { value, enumerable: true, configurable: true, writable: true });
          return JSON.stringify(p);
        }),
    },
    fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'),
    fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.constant(JSON.stringify({ ...VALID[kind], pad: 'x'.repeat(70 * 1024) })),
    fc.constant('{"a":'.repeat(5000)),
  );
const message = fc
  .record({ device: fc.constantFrom(...DEVICES), kind: fc.constantFrom(...DEVICE_UPLINK) })
  .chain(({ device, kind }) => payloadOf(kind).map((payload) => ({ device, kind, payload })));

/** Whether the contract's schema alone refuses it (the branch may refuse more: unknown zones, services, tasks). */
function schemaRefuses(kind: UplinkKind, payload: string | Buffer): boolean {
  try {
    const json: unknown = JSON.parse(payload.toString());
    return typeof json !== 'object' || json === null || Array.isArray(json) || !uplinkSchemas[kind].safeParse(json).success;
  } catch {
    return true;
  }
}

describe('fuzzed device messages (hardening): each refused with a contract error or taken, nothing lost, the hub serving and restartable', () => {
  let hub: TestHub;
  const clients = new Map<string, MqttClient>();
  const answers: (ErrorPayload & { device: string })[] = [];

  const connect = async (h: TestHub, id: string) => {
    const c = await mqtt.connectAsync(h.mqttUrl, { clientId: id, username: id, password: `s-${id}`, reconnectPeriod: 0 });
    await c.subscribeAsync(`branch/br-1/devices/${id}/error`, { qos: 1 });
    c.on('message', (_t, p) => answers.push({ ...(JSON.parse(p.toString()) as ErrorPayload), device: id }));
    clients.set(id, c);
  };
  const total = async (h: TestHub, metric: string) =>
    [...(await fetch(`${h.httpUrl}/metrics`).then((r) => r.text())).matchAll(new RegExp(`^${metric}\\{[^}]*\\} (\\d+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
  /** The hub answers its pages and applies a valid message. */
  const serving = async (h: TestHub, battery: number) => {
    for (const path of ['/api/branches/br-1/devices', '/api/branches/br-1/tasks', '/api/branches/br-1/alerts', '/api/branches', '/api/branches/br-1/analytics', '/api/health']) {
      expect([path, (await h.api('GET', path)).status]).toEqual([path, 200]);
    }
    await clients.get('robot-1')!.publishAsync('branch/br-1/devices/robot-1/state', JSON.stringify({ status: 'idle', battery }), { qos: 1 });
    await eventually(async () => (await h.api('GET', '/api/branches/br-1/devices')).body.find((d: { id: string }) => d.id === 'robot-1')?.battery === battery, 3000, 'a valid state applied');
  };

  beforeAll(async () => {
    hub = await startTestHub(testConfig({ rules: { maxMsgPerSec: 100_000 } })); // the content is under test here, not the rate
    for (const id of DEVICES) await connect(hub, id);
  });
  afterAll(async () => {
    await Promise.all([...clients.values()].map((c) => c.endAsync()));
    await hub.close();
  });

  it('plays 2,000 generated messages (seeded) from three devices at once, and nothing fails inside the hub', async () => {
    const sent = fc.sample(message, { numRuns: 2000, seed: 20261203 });
    const failures = jest.spyOn(Logger.prototype, 'error');
    const inBefore = await total(hub, 'hub_mqtt_messages_in_total');
    const rejectedBefore = await total(hub, 'hub_mqtt_rejected_total');
    await Promise.all(DEVICES.map(async (id) => {
      for (const m of sent.filter((s) => s.device === id)) await clients.get(id)!.publishAsync(`branch/br-1/devices/${id}/${m.kind}`, m.payload, { qos: 1 });
    }));
    await hub.settle();
    // Every message reached ingest, and each refusal was answered on its device's error topic with a contract code.
    expect((await total(hub, 'hub_mqtt_messages_in_total')) - inBefore).toBe(sent.length);
    const refused = (await total(hub, 'hub_mqtt_rejected_total')) - rejectedBefore;
    await eventually(() => answers.length === refused, 5000, `${refused} error answers`);
    for (const a of answers) {
      expect(ERROR_CODES).toContain(a.code);
      expect(a.topic.startsWith(`branch/br-1/devices/${a.device}/`)).toBe(true);
      expect(typeof a.detail === 'string' && a.detail.length > 0).toBe(true);
    }
    // Whatever the contract's schemas refuse was refused: per device and kind, at least as many answers.
    for (const id of DEVICES) {
      for (const kind of DEVICE_UPLINK) {
        const topic = `branch/br-1/devices/${id}/${kind}`;
        const mustRefuse = sent.filter((s) => s.device === id && s.kind === kind && schemaRefuses(kind, s.payload)).length;
        const got = answers.filter((a) => a.topic === topic).length;
        expect([topic, got >= mustRefuse, got <= sent.filter((s) => s.device === id && s.kind === kind).length]).toEqual([topic, true, true]);
      }
    }
    expect(refused).toBeGreaterThan(sent.length / 2); // the generator mostly breaks things
    expect(refused).toBeLessThan(sent.length - 200); // and a good part it keeps valid: taken, stored
    await serving(hub, 41);
    expect(failures.mock.calls).toEqual([]);
    failures.mockRestore();
  });

  it('starts again on what the fuzzed messages left in the database, and serves', async () => {
    await Promise.all([...clients.values()].map((c) => c.endAsync()));
    clients.clear();
    hub = await hub.restart();
    for (const id of DEVICES) await connect(hub, id);
    await serving(hub, 42);
  });
});
