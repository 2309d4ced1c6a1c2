/**
 * Ingest: 10 publishers (the ten devices of one branch, with their credentials) send a mix of signals —
 * footfall, occupancy, track, queue, state — at QoS 1, each keeping WINDOW messages in flight, for a fixed
 * time; the rate is PUBACKs per second. aedes writes a QoS 1 PUBACK before its `published` hook runs, but reads a
 * connection's next packets only once every packet of the previous read is handled (hook done), so over a run the
 * PUBACK rate is the rate the hub takes messages (validated and applied in the branch's turns; rows the turns
 * leave behind are group-committed after). The same publishers, topics and payloads go
 * to a bare aedes in the same run, interleaved hub / bare. The hub runs with its uplink to a headquarters broker
 * (`withHeadquarters`): alerts the burst raises and clears are numbered and sent, as in a branch.
 *
 * Two kinds of publisher, both measured: MQTT.js clients (as devices and the old bench), and raw sockets
 * writing packets encoded by mqtt-packet. On 2 cores ten MQTT.js clients in one process top out near the
 * bare broker's rate, so bare aedes measured with them is partly the client's speed; the raw publishers
 * cost a fraction of that and show what the broker itself takes.
 *
 * A PUBACK says the hub took the message, not that what it changed is stored: rows nobody waits for are
 * group-committed behind the turns, and a backlog there would not show in the PUBACK rate. So after each hub
 * burst the hub's SQLite file is read (read-only) until every `track` acked has its raw row: the burst plus that
 * drain is the time the hub took to fully process the burst (stored).
 *
 * CPU per message: the process's user + system time over the burst (the hub's until its rows are stored), every
 * thread (SQLite's included), per message acked — what the hub spends on a message beside what the broker does.
 */
import mqtt, { type MqttClient } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { branchesConfig, cpuMsOf, log, sleep, startBare, startHub, withHeadquarters, writeConfig, type BenchDevice, type BenchOptions, type Broker, type Row } from './harness.js';

const PUBLISHERS = 10;
const WINDOW = 32;
const SECONDS = 3;
/**
 * The burst before the measured ones, per publisher kind and broker. A hub fresh from start-up costs about twice its
 * steady CPU per message for its first ~10 s of load (one branch, raw publishers, 2 s bursts: 97–127 µs after 0.5 s
 * of load, 41–57 after 10 s; not the young generation's size, not the disk, not tier-up flags; BENCHMARKS.md part 9).
 * With a 1 s warm-up the raw publishers, measured first, met that hub and the MQTT.js ones a warm one.
 */
export const WARMUP_S = 6;

/** What a device of this kind says, message after message: every occupancy a new count, footfall in and out, a queue that moves. */
export function signals(d: BenchDevice): () => [string, string] {
  const base = `branch/${d.branchId}/devices/${d.id}`;
  let i = 0;
  const ts = () => new Date().toISOString();
  if (d.kind === 'sensor') {
    const zone = d.zone ?? 'entrance';
    return () => {
      i++;
      switch (i % 4) {
        case 0:
          return [`${base}/footfall`, JSON.stringify({ ts: ts(), direction: i % 8 === 0 ? 'in' : 'out', zone })];
        case 1:
          return [`${base}/occupancy`, JSON.stringify({ ts: ts(), zone, count: i % 40 })];
        case 2:
          return [`${base}/track`, JSON.stringify({ ts: ts(), track: `t${d.id}-${i >> 3}`, zone, event: 'enter' })];
        default:
          return [`${base}/track`, JSON.stringify({ ts: ts(), track: `t${d.id}-${i >> 3}`, zone, event: 'exit' })];
      }
    };
  }
  if (d.kind === 'queue') {
    return () => {
      const n = Math.floor(i / 3);
      const event = (['issued', 'called', 'served'] as const)[i++ % 3];
      const ticket = `A${n}`;
      return [`${base}/queue`, JSON.stringify({ ts: ts(), event, ticket, service: 'cash', ...(event === 'issued' ? {} : { counter: 'counter-1' }) })];
    };
  }
  return () => [`${base}/state`, JSON.stringify({ ts: ts(), status: i++ % 2 ? 'idle' : 'busy', ...(d.zone ? { zone: d.zone } : {}), ...(d.kind === 'robot' ? { battery: 100 - (i % 50) } : {}) })];
}

export interface Publisher {
  publish(topic: string, payload: string, opts: { qos: 1 }, cb: (err?: Error) => void): void;
  end(): Promise<void>;
}

async function connectMqttJs(url: string, d: BenchDevice): Promise<Publisher> {
  const c: MqttClient = await mqtt.connectAsync(url, { clientId: d.id, username: d.id, password: d.secret, reconnectPeriod: 0 });
  (c.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  return { publish: (t, p, o, cb) => void c.publish(t, p, o, (e) => cb(e ?? undefined)), end: () => c.endAsync(true) };
}

/** A device as a bare socket: CONNECT with its credentials, then PUBLISH QoS 1 encoded by mqtt-packet, PUBACKs matched by id. */
export function connectRaw(url: string, d: BenchDevice): Promise<Publisher> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const sock: Socket = netConnect({ host: '127.0.0.1', port: Number(port), noDelay: true });
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const waiting = new Map<number, (err?: Error) => void>();
    let nextId = 1;
    const pub: Publisher = {
      publish: (topic, payload, _o, cb) => {
        const messageId = nextId;
        nextId = nextId === 65535 ? 1 : nextId + 1;
        waiting.set(messageId, cb);
        sock.write(mqttPacket.generate({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, messageId, retain: false, dup: false }));
      },
      end: () =>
        new Promise((r) => {
          sock.end(mqttPacket.generate({ cmd: 'disconnect' }));
          sock.once('close', () => r());
        }),
    };
    parser.on('packet', (p) => {
      if (p.cmd === 'connack') return p.returnCode === 0 ? resolve(pub) : reject(new Error(`${d.id}: CONNACK ${p.returnCode}`));
      if (p.cmd === 'puback' && p.messageId !== undefined) {
        const cb = waiting.get(p.messageId);
        waiting.delete(p.messageId);
        cb?.();
      }
    });
    sock.on('data', (b) => parser.parse(b));
    sock.once('error', reject);
    sock.once('connect', () =>
      sock.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: d.id, username: d.id, password: Buffer.from(d.secret), clean: true, keepalive: 60 })),
    );
  });
}

interface Burst {
  /** PUBACKs per second. */
  rate: number;
  acked: number;
  ms: number;
  /** `track` messages acked: each is one raw row once stored. */
  tracks: number;
}

/** All publishers for `seconds`, WINDOW in flight each. */
export async function burst(clients: Publisher[], gens: (() => [string, string])[], seconds: number): Promise<Burst> {
  let acked = 0;
  let tracks = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    clients.map(
      (c, k) =>
        new Promise<void>((resolve) => {
          let inFlight = 0;
          let stopped = false;
          const pump = () => {
            while (!stopped && inFlight < WINDOW) {
              if (performance.now() >= end) {
                stopped = true;
                break;
              }
              const [topic, payload] = gens[k]();
              inFlight++;
              c.publish(topic, payload, { qos: 1 }, (err) => {
                inFlight--;
                if (!err) acked++;
                if (!err && topic.endsWith('/track')) tracks++;
                if (stopped && inFlight === 0) resolve();
                else pump();
              });
            }
            if (stopped && inFlight === 0) resolve();
          };
          pump();
        }),
    ),
  );
  const ms = performance.now() - t0;
  return { rate: acked / (ms / 1000), acked, ms, tracks };
}

/** Raw track rows the hub has stored, read from its SQLite file. */
function storedTracks(db: sqlite3.Database): Promise<number> {
  return new Promise((resolve, reject) => db.get('SELECT count(*) AS n FROM track_event', (err, row: { n: number }) => (err ? reject(err) : resolve(row.n))));
}

/** Ms after the burst until `want` track rows are stored (polled every 10 ms; at most 60 s). */
async function drained(db: sqlite3.Database, want: number): Promise<number> {
  const t0 = performance.now();
  while ((await storedTracks(db)) < want && performance.now() - t0 < 60_000) await sleep(10);
  return performance.now() - t0;
}

export async function ingest(opts: BenchOptions): Promise<Row[]> {
  const { config, devices } = branchesConfig(1, { greetCooldownSec: 3600 });
  const hq = await withHeadquarters(config);
  const files = writeConfig(config);
  const pubs = devices.slice(0, PUBLISHERS);
  const brokers: Broker[] = [await startHub(files.file, files.dataDir, opts), await startBare()];
  const db = new sqlite3.Database(join(files.dataDir, 'hub.sqlite'), sqlite3.OPEN_READONLY);
  const kinds = { raw: connectRaw, 'MQTT.js': connectMqttJs } as const;
  const rates: Record<string, number[]> = {};
  try {
    for (const [kind, connect] of Object.entries(kinds)) {
      const sets = new Map<Broker, { clients: Publisher[]; gens: (() => [string, string])[] }>();
      try {
        for (const b of brokers) {
          const clients = await Promise.all(pubs.map((d) => connect(b.mqttUrl, d)));
          const gens = pubs.map(signals);
          sets.set(b, { clients, gens });
          await burst(clients, gens, WARMUP_S);
        }
        for (let r = 0; r < opts.runs; r++) {
          for (const b of brokers) {
            await sleep(500); // let the hub finish what the previous burst queued (group commits, summaries)
            const hubDb = b.name === 'hub' ? db : undefined;
            const before = hubDb ? await storedTracks(hubDb) : 0;
            const cpu0 = cpuMsOf(b.pid);
            const run = await burst(sets.get(b)!.clients, sets.get(b)!.gens, SECONDS);
            (rates[`${kind} ${b.name}`] ??= []).push(run.rate);
            const cpuPerMessage = () => ((cpuMsOf(b.pid) - cpu0) * 1000) / run.acked;
            if (!hubDb) {
              (rates[`${kind} cpu bare`] ??= []).push(cpuPerMessage());
              log(`ingest ${kind} run ${r + 1} ${b.name}: ${run.rate.toFixed(0)} msg/s`);
              continue;
            }
            const drain = await drained(hubDb, before + run.tracks);
            (rates[`${kind} cpu hub`] ??= []).push(cpuPerMessage());
            (rates[`${kind} stored`] ??= []).push(run.acked / ((run.ms + drain) / 1000));
            (rates[`${kind} drain`] ??= []).push(drain);
            log(`ingest ${kind} run ${r + 1} hub: ${run.rate.toFixed(0)} msg/s acked, stored ${drain.toFixed(0)} ms after the burst`);
          }
        }
      } finally {
        for (const { clients } of sets.values()) await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
      }
    }
  } finally {
    db.close();
    for (const b of brokers) await b.stop();
    await hq.stop();
    files.cleanup();
  }
  return Object.keys(kinds).flatMap((kind): Row[] => [
    {
      part: 'ingest',
      metric: `mixed signals, ${PUBLISHERS} ${kind} publishers, QoS 1, ${WINDOW} in flight each: taken (PUBACKs/s)`,
      unit: 'msg/s',
      hub: rates[`${kind} hub`],
      bare: rates[`${kind} bare`],
    },
    {
      part: 'ingest',
      metric: `the same, fully processed: acked / (burst + until every row is stored)`,
      unit: 'msg/s',
      hub: rates[`${kind} stored`],
      bare: rates[`${kind} bare`],
      target: { kind: 'ratio', op: '>=', value: 0.5, label: 'hub/bare ≥ 0.5' },
    },
    { part: 'ingest', metric: `the same: rows still being stored after the ${SECONDS} s burst`, unit: 'ms', hub: rates[`${kind} drain`] },
    {
      part: 'ingest',
      metric: `the same: CPU per message, every thread of the process (hub: until every row is stored)`,
      unit: 'µs',
      hub: rates[`${kind} cpu hub`],
      bare: rates[`${kind} cpu bare`],
    },
  ]);
}
