import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HqSim, type HqEvent } from '../device-sims/hq.js';
import { startHubProcess, type HubProcess } from '../device-sims/hub-process.js';
import { SensorSim } from '../device-sims/sensor.js';
import { eventually, testConfig } from './support/hub.js';
import { startMosquitto, type Mosquitto } from './support/mosquitto.js';

/**
 * Issue 11, "nothing lost": the built hub as a child process (so it can be killed with SIGKILL), a real
 * Mosquitto playing headquarters' broker. Alerts are made by conduct findings at distinct posts (one
 * condition each).
 */
const POSTS = Array.from({ length: 40 }, (_, i) => `p${i + 1}`);

describe('uplink durability', () => {
  let broker: Mosquitto;
  let hq: HqSim;
  let dir: string;
  let hub: HubProcess | undefined;
  let cam: SensorSim | undefined;
  let next = 0;
  /** Alerts this hub process raised (its metrics start at 0). */
  let raisedHere = 0;

  const start = async (maxBacklog: number) => {
    const config = testConfig();
    const raw = { ...config, server: { mqttPort: 0, httpPort: 0 }, branches: [{ ...config.branches[0], posts: POSTS }], uplink: { url: broker.url, clientId: 'hub-durable', kpiIntervalSec: 3600, maxBacklog } };
    writeFileSync(join(dir, 'hub.yaml'), JSON.stringify(raw));
    hub = await startHubProcess({ HUB_CONFIG: join(dir, 'hub.yaml'), HUB_DATA_DIR: join(dir, 'data') });
    raisedHere = 0;
    cam = await new SensorSim({ branchId: 'br-1', id: 'cam-1', secret: 's-cam-1', kind: 'sensor', zone: 'entrance' }).connect({ url: `mqtt://127.0.0.1:${hub.mqttPort}` });
  };
  // The hub first: a camera that said goodbye before the kill would race it to a device-down alert (and its clear).
  const kill = async () => {
    hub?.child.kill('SIGKILL');
    await hub?.exited();
    await cam?.disconnect().catch(() => undefined);
  };
  /** `n` new alerts; resolves once the hub has stored them (its metric counts them). */
  const alerts = async (n: number) => {
    for (let i = 0; i < n; i++) await cam!.publish('conduct', { type: 'other', post: POSTS[next++] });
    raisedHere += n;
    await eventually(async () => {
      const text = await fetch(`http://127.0.0.1:${hub!.httpPort}/metrics`).then((r) => r.text());
      return Number(text.match(/hub_alerts_raised_total\{type="conduct"\} (\d+)/)?.[1] ?? 0) >= raisedHere;
    }, 5000, `${n} alerts raised`);
  };
  const events = (): HqEvent[] => hq.seen('br-1').events;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'uplink-durable-'));
    broker = await startMosquitto({ extraConfig: ['max_queued_messages 0'] });
    hq = await HqSim.connect(broker.url, { clientId: `hq-${Date.now()}` });
    next = 0;
  });
  afterEach(async () => {
    await kill();
    await hq.disconnect().catch(() => undefined);
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers every event in seq order, no gap, across an HQ outage and a kill -9 of the hub', async () => {
    await start(100_000);
    await alerts(5);
    await hq.waitFor(() => events().length >= 5, 5000, 'the first five');
    await broker.stop();
    await alerts(5);
    // Killed while its backlog waits, HQ still away; started again, it makes more.
    await kill();
    await start(100_000);
    await alerts(5);
    await broker.restart();
    await hq.reconnect();
    await hq.waitFor(() => new Set(events().map((e) => e.seq)).size >= 15, 20_000, 'all fifteen');
    const report = hq.seqReport('br-1');
    expect(report).toMatchObject({ distinct: 15, gaps: [], outOfOrder: [] });
    expect(events().every((e) => e.kind === 'alert-raised' && e.type === 'conduct')).toBe(true);
  });

  it('has HQ hear the will when the hub vanishes, and online again when it is back', async () => {
    await start(100);
    await hq.waitFor(() => hq.seen('br-1').status?.online === true, 5000, 'online');
    await kill();
    const will = await hq.waitFor(() => (hq.seen('br-1').status?.online === false ? hq.seen('br-1').status : null), 5000, 'the will');
    expect(Date.parse(will!.since)).not.toBeNaN();
    await start(100);
    await hq.waitFor(() => hq.seen('br-1').status?.online === true, 5000, 'online again');
  });

  it('drops the oldest past maxBacklog and says how many, so every seq is either delivered or counted as dropped', async () => {
    await start(5);
    await broker.stop();
    await alerts(12);
    await broker.restart();
    await hq.reconnect();
    await hq.waitFor(() => events().some((e) => e.kind === 'backlog-dropped'), 20_000, 'backlog-dropped');
    await hq.waitFor(() => new Set(events().map((e) => e.seq)).size >= 5, 5000, 'the backlog');
    const seqs = [...new Set(events().map((e) => e.seq))].sort((a, b) => a - b);
    const dropped = events().filter((e) => e.kind === 'backlog-dropped').reduce((n, e) => n + Number(e.dropped), 0);
    // 12 alerts and a notice per overflow: the newest 5 came, the rest were dropped and said so.
    expect(seqs).toHaveLength(5);
    expect(dropped + seqs.length).toBe(seqs[seqs.length - 1]);
    expect(events().at(-1)).toMatchObject({ kind: 'backlog-dropped' });
    expect(hq.seqReport('br-1').outOfOrder).toEqual([]);
  });
});
