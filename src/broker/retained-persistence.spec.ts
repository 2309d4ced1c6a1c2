import type { AedesPublishPacket } from 'aedes';
import MemoryPersistence from 'aedes-persistence/asyncPersistence.js';
import { HubPersistence } from './retained-persistence.js';

type Persistence = Pick<MemoryPersistence, 'storeRetained' | 'createRetainedStreamCombi'>;

const packet = (topic: string, payload: string) => ({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: true, dup: false }) as AedesPublishPacket;

/** What a SUBSCRIBE to `filters` would be handed: topic=payload, in order. */
async function retained(p: Persistence, filters: string[]): Promise<string[]> {
  const packets: AedesPublishPacket[] = await p.createRetainedStreamCombi(filters).toArray();
  return packets.map((x) => `${x.topic}=${x.payload.toString()}`);
}

/** A small seeded generator, so a failure can be replayed. */
function random(seed: number) {
  let s = seed;
  const next = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
  const words = (from: readonly string[]) => Array.from({ length: 1 + Math.floor(next() * 4) }, () => pick(from));
  return { next, pick, words };
}

describe('HubPersistence: retained messages', () => {
  it('hands out exactly what aedes-persistence does, in the same order, for any filter', async () => {
    const r = random(12);
    const topicWords = ['a', 'b', 'c', '', '$SYS', 'x+', 'y#'];
    const filterWords = [...topicWords, '+', '+', '#'];
    for (let round = 0; round < 20; round++) {
      const stock = new MemoryPersistence();
      const hub = new HubPersistence();
      for (let i = 0; i < 60; i++) {
        // Re-stores of a topic, and deletes (an empty payload) that may be followed by a new store.
        const p = packet(r.words(topicWords).join('/'), r.next() < 0.2 ? '' : `v${i}`);
        await stock.storeRetained(p);
        await hub.storeRetained(p);
      }
      for (let i = 0; i < 80; i++) {
        const filters = Array.from({ length: 1 + Math.floor(r.next() * 2) }, () => r.words(filterWords).join('/'));
        expect([filters, await retained(hub, filters)]).toEqual([filters, await retained(stock, filters)]);
      }
    }
  });

  it('finds an exact topic, and a wildcard filter only under its own prefix', async () => {
    const hub = new HubPersistence();
    for (const b of ['b1', 'b2']) for (const d of ['d1', 'd2']) await hub.storeRetained(packet(`branch/${b}/presence/${d}`, `${b}${d}`));
    await hub.storeRetained(packet('branch/b1/summary', 's1'));
    expect(await retained(hub, ['branch/b1/presence/d2'])).toEqual(['branch/b1/presence/d2=b1d2']);
    expect(await retained(hub, ['branch/b1/presence/+'])).toEqual(['branch/b1/presence/d1=b1d1', 'branch/b1/presence/d2=b1d2']);
    expect(await retained(hub, ['branch/b2/#'])).toEqual(['branch/b2/presence/d1=b2d1', 'branch/b2/presence/d2=b2d2']);
    expect(await retained(hub, ['branch/b1/presence/d3', 'branch/b1/summary/#'])).toEqual(['branch/b1/summary=s1']);
  });

  it('forgets a topic on an empty payload, and keeps only the last of several', async () => {
    const hub = new HubPersistence();
    await hub.storeRetained(packet('a/b', 'one'));
    await hub.storeRetained(packet('a/c', 'two'));
    await hub.storeRetained(packet('a/b', 'three'));
    expect(await retained(hub, ['a/+'])).toEqual(['a/b=three', 'a/c=two']);
    await hub.storeRetained(packet('a/b', ''));
    expect(await retained(hub, ['a/b'])).toEqual([]);
    expect(await retained(hub, ['#'])).toEqual(['a/c=two']);
    await hub.storeRetained(packet('a/c', ''));
    expect(await retained(hub, ['#'])).toEqual([]);
  });

  it('keeps a copy: aedes reuses the packet it stored', async () => {
    const hub = new HubPersistence();
    const p = packet('a', 'one');
    await hub.storeRetained(p);
    p.topic = 'b';
    expect(await retained(hub, ['#'])).toEqual(['a=one']);
  });
});
