/**
 * Scale: 10,000 devices over 1,000 branches (ten each), every one connecting with its own credentials and
 * subscribing to its `cmd` and `error`, from CLIENT_PROCESSES child processes (bench/clients.ts), CONCURRENCY
 * connects in flight each. Connect rate = connections / wall time from the first CONNECT to the last SUBACK.
 * Memory = (RSS of the broker's process once all are connected and it is idle again − RSS when idle before
 * the first connect) / connections, read from /proc; the time from the last SUBACK until idle is reported. Then the reaction load (reaction.ts) runs with all of them
 * connected: its cameras and robots of branches 0…49 are the remaining 150 of the 10,000. The same for a
 * bare aedes, one after the other (never both loaded at once).
 */
import { branchesConfig, log, pct, rssOf, sampleRss, sleep, waitIdle, startBare, startClientProcess, startHub, writeConfig, type BenchDevice, type BenchOptions, type Broker, type ClientProcess, type Row } from './harness.js';
import { REACTION_BRANCHES, REACTION_IDS, reactionLoad, reactionRows, type ReactionResult } from './reaction.js';

const CLIENT_PROCESSES = 4;
const CONCURRENCY = 50;

interface ScaleResult {
  connectRate: number;
  connected: number;
  failed: number;
  perDevice: number;
  rssBefore: number;
  rssAfter: number;
  rssPeak: number;
  reaction: Map<number, ReactionResult>;
  /** From the first CONNECT to the last SUBACK, and from then until the broker was idle. */
  connectS: number;
  settleS: number;
}

async function onBroker(broker: Broker, held: BenchDevice[], opts: BenchOptions): Promise<ScaleResult> {
  const procs: ClientProcess[] = await Promise.all(Array.from({ length: CLIENT_PROCESSES }, () => startClientProcess()));
  try {
    await waitIdle(broker.pid); // start-up work done (a hub of 1,000 branches keeps busy after its ready line)
    const rssBefore = rssOf(broker.pid);
    const rss = sampleRss(broker.pid, 200);
    const chunk = Math.ceil(held.length / CLIENT_PROCESSES);
    const t0 = performance.now();
    const results = await Promise.all(
      procs.map((p, k) =>
        p.ask<{ connected: number; failed: number; ms: number; firstError?: string }>({ cmd: 'connect', url: broker.mqttUrl, devices: held.slice(k * chunk, (k + 1) * chunk), concurrency: CONCURRENCY }),
      ),
    );
    const seconds = (performance.now() - t0) / 1000;
    const connected = results.reduce((s, r) => s + r.connected, 0);
    const failed = results.reduce((s, r) => s + r.failed, 0);
    const firstError = results.find((r) => r.firstError)?.firstError;
    log(`scale ${broker.name}: ${connected} connected, ${failed} failed in ${seconds.toFixed(1)} s${firstError ? ` (first error: ${firstError})` : ''}`);
    if (broker.httpUrl) {
      // The hub counts its devices itself: wait until it has handled every connect (presence is written per device).
      const end = Date.now() + 60_000;
      for (;;) {
        const h = (await (await fetch(`${broker.httpUrl}/api/health`)).json()) as { connectedDevices: number };
        if (h.connectedDevices >= connected || Date.now() > end) {
          log(`scale hub: /api/health says ${h.connectedDevices} connected`);
          break;
        }
        await sleep(250);
      }
    }
    // The hub counts a device as connected at once and does the rest (presence, flows, database) in queues: wait until it is idle.
    const settleMs = await waitIdle(broker.pid);
    log(`scale ${broker.name}: idle ${(settleMs / 1000).toFixed(1)} s after the last SUBACK`);
    await sleep(1000);
    const { peak, last } = rss.stop();
    const perDevice = (last - rssBefore) / connected;
    log(`scale ${broker.name}: RSS ${(rssBefore / 2 ** 20).toFixed(0)} → ${(last / 2 ** 20).toFixed(0)} MiB (peak ${(peak / 2 ** 20).toFixed(0)}), ${(perDevice / 1024).toFixed(1)} KiB/device`);
    const reaction = new Map<number, ReactionResult>();
    for (const rate of opts.reactionRates) {
      await waitIdle(broker.pid, { maxMs: 60_000 });
      const r = await reactionLoad(broker, 10, rate);
      reaction.set(rate, r);
      log(`scale ${broker.name}: reaction ${rate}/s p50 ${pct(r.samples, 50).toFixed(2)} p99 ${pct(r.samples, 99).toFixed(2)} ms, n ${r.samples.length}, no greet ${r.missed}`);
    }
    return { connectRate: connected / seconds, connected, failed, perDevice, rssBefore, rssAfter: last, rssPeak: peak, reaction, settleS: settleMs / 1000, connectS: seconds };
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
  }
}

export async function scale(opts: BenchOptions): Promise<Row[]> {
  const branches = Math.ceil(opts.scaleDevices / 10);
  const { config, devices } = branchesConfig(branches);
  const files = writeConfig(config);
  const reactionBranches = new Set(Array.from({ length: REACTION_BRANCHES }, (_, i) => devices[i * 10].branchId));
  const held = devices.filter((d) => !(reactionBranches.has(d.branchId) && REACTION_IDS.includes(d.role)));
  let hubR: ScaleResult;
  let bareR: ScaleResult;
  const hub = await startHub(files.file, files.dataDir, opts);
  try {
    hubR = await onBroker(hub, held, opts);
  } finally {
    await hub.stop();
  }
  const bare = await startBare();
  try {
    bareR = await onBroker(bare, held, opts);
  } finally {
    await bare.stop();
    files.cleanup();
  }
  const kib = (r: ScaleResult) => r.perDevice / 1024;
  return [
    {
      part: 'scale',
      metric: `connect rate, ${held.length} devices / ${branches} branches, credentials + SUBSCRIBE`,
      unit: 'conn/s',
      hub: [hubR.connectRate],
      bare: [bareR.connectRate],
      target: { kind: 'ratio', op: '>=', value: 0.5, label: 'hub/bare ≥ 0.5' },
      note: `failed hub ${hubR.failed}, bare ${bareR.failed}`,
    },
    {
      part: 'scale',
      metric: 'last SUBACK → broker idle (< 10 % CPU over 1 s)',
      unit: 's',
      hub: [hubR.settleS],
      bare: [bareR.settleS],
      note: `first CONNECT → last SUBACK: hub ${hubR.connectS.toFixed(1)} s, bare ${bareR.connectS.toFixed(1)} s`,
    },
    {
      part: 'scale',
      metric: 'resident memory per connected device (RSS once idle)',
      unit: 'KiB',
      hub: [kib(hubR)],
      bare: [kib(bareR)],
      target: { kind: 'ratio', op: '<=', value: 2, label: 'hub/bare ≤ 2' },
      note: `RSS before → after (peak): hub ${(hubR.rssBefore / 2 ** 20).toFixed(0)} → ${(hubR.rssAfter / 2 ** 20).toFixed(0)} (${(hubR.rssPeak / 2 ** 20).toFixed(0)}) MiB, bare ${(bareR.rssBefore / 2 ** 20).toFixed(0)} → ${(bareR.rssAfter / 2 ** 20).toFixed(0)} (${(bareR.rssPeak / 2 ** 20).toFixed(0)}) MiB`,
    },
    ...opts.reactionRates.flatMap((rate) => reactionRows(`scale (${held.length + REACTION_BRANCHES * REACTION_IDS.length} connected)`, rate, [hubR.reaction.get(rate)!], [bareR.reaction.get(rate)!])),
  ];
}
