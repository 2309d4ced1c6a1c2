import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { createServer } from 'node:net';
import { HubPersistence } from '../src/broker/retained-persistence.js';

/**
 * The hub's retained store inside a real aedes, against aedes' own in-memory one, driven the same way by
 * MQTT.js clients: every subscription is handed the same retained messages in the same order.
 */
async function broker(persistence?: HubPersistence) {
  const aedes = await Aedes.createBroker(persistence ? { persistence } : {});
  const server = createServer((socket) => aedes.handle(socket));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    aedes,
    url: `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: async () => {
      await new Promise<void>((r) => aedes.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

type Broker = Awaited<ReturnType<typeof broker>>;

const QUIET_MS = 200;

/** What a fresh client subscribing to `filters` is handed as retained (topic=payload), once nothing more comes. */
async function retainedFor(b: Broker, filters: string[]): Promise<string[]> {
  const c = await mqtt.connectAsync(b.url, { reconnectPeriod: 0 });
  const got: string[] = [];
  let last = Date.now();
  c.on('message', (t, p, pkt) => pkt.retain && (got.push(`${t}=${p.toString()}`), (last = Date.now())));
  await c.subscribeAsync(filters, { qos: 1 });
  while (Date.now() - last < QUIET_MS) await new Promise((r) => setTimeout(r, 20));
  await c.endAsync();
  return got;
}

/** Retained publishes by a client (updates, an empty payload that deletes), and a `$` topic by the broker itself. */
async function fill(b: Broker): Promise<void> {
  const c = await mqtt.connectAsync(b.url, { reconnectPeriod: 0 });
  const messages: [string, string][] = [
    ['branch/b1/presence/d1', 'on'],
    ['branch/b1/presence/d2', 'on'],
    ['branch/b2/presence/d1', 'on'],
    ['branch/b1/summary', 's'],
    ['branch/b1/presence/d2', 'off'],
    ['branch/b2/presence/d1', ''],
    ['branch/b2/presence/d3', 'on'],
    ['branch/b2/presence/d4', 'on'],
    ['branch/b2/presence/d4', ''],
    ['branch/b1', 'root'],
    ['branch/b1/', 'empty level'],
    ['branch/b2/presence/d1', 'back'],
  ];
  for (const [topic, payload] of messages) await c.publishAsync(topic, payload, { qos: 1, retain: true });
  await c.endAsync();
  await new Promise<void>((r, j) => b.aedes.publish({ cmd: 'publish', topic: '$SYS/x/info', payload: Buffer.from('sys'), qos: 0, retain: true, dup: false }, (e) => (e ? j(e) : r())));
}

describe('retained messages through aedes: the hub store and the stock one agree', () => {
  let stock: Broker;
  let hub: Broker;

  beforeAll(async () => {
    stock = await broker();
    hub = await broker(new HubPersistence());
    await Promise.all([fill(stock), fill(hub)]);
  });
  afterAll(async () => {
    await Promise.all([stock?.close(), hub?.close()]);
  });

  it.each([
    [['branch/b1/presence/d2']],
    [['branch/b2/presence/d1']],
    [['branch/b1/presence/+']],
    [['branch/b2/presence/#']],
    [['branch/+/presence/#']],
    [['branch/b1/#']],
    [['branch/b1/+']],
    [['#']],
    [['+/#']],
    [['$SYS/#']],
    [['branch/b1/presence/+', 'branch/b1/summary', 'branch/b9/#']],
  ])('subscribing to %j', async (filters) => {
    const [want, got] = await Promise.all([retainedFor(stock, filters), retainedFor(hub, filters)]);
    expect(want.length).toBeGreaterThan(filters.includes('branch/b9/#') ? 1 : 0);
    expect(got).toEqual(want);
  });

  it('hands out the last word, and nothing for a deleted topic', async () => {
    expect(await retainedFor(hub, ['branch/b1/presence/+'])).toEqual(['branch/b1/presence/d1=on', 'branch/b1/presence/d2=off']);
    expect(await retainedFor(hub, ['branch/b2/presence/d4', 'branch/b3/presence/#', 'branch/b1/presence/d3'])).toEqual([]);
  });
});
