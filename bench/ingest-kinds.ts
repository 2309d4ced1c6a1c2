/**
 * Ingest by kind: what one message of each kind costs, hub beside bare aedes. The mixed ingest part says how fast;
 * this says where the hub's time goes. Raw publishers (bench/ingest.ts) of one kind at a time — robots' and screens'
 * `state`, cameras' footfall/occupancy/track, the queue system's issued/called/served — each burst followed until the
 * hub is idle again (its rows stored), CPU of every thread per message acked.
 */
import { branchesConfig, cpuMsOf, log, sleep, startBare, startHub, waitIdle, withHeadquarters, writeConfig, type BenchDevice, type BenchOptions, type Broker, type Row } from './harness.js';
import { WARMUP_S, burst, connectRaw, signals } from './ingest.js';

const SECONDS = 2;

const KINDS: { name: string; of: (d: BenchDevice) => boolean }[] = [
  { name: '`state` (robots, screens)', of: (d) => d.kind === 'robot' || d.kind === 'screen' },
  { name: 'footfall, occupancy, track (cameras)', of: (d) => d.kind === 'sensor' },
  { name: '`queue` issued → called → served', of: (d) => d.kind === 'queue' },
];

export async function ingestKinds(opts: BenchOptions): Promise<Row[]> {
  const { config, devices } = branchesConfig(1, { greetCooldownSec: 3600 });
  const hq = await withHeadquarters(config);
  const files = writeConfig(config);
  const brokers: Broker[] = [await startHub(files.file, files.dataDir, opts), await startBare()];
  const cpu: Record<string, number[]> = {};
  try {
    for (const kind of KINDS) {
      const pubs = devices.slice(0, 10).filter(kind.of);
      for (const b of brokers) {
        const clients = await Promise.all(pubs.map((d) => connectRaw(b.mqttUrl, d)));
        const gens = pubs.map(signals);
        try {
          await burst(clients, gens, WARMUP_S);
          for (let r = 0; r < opts.runs; r++) {
            await waitIdle(b.pid, { windowMs: 300 });
            const cpu0 = cpuMsOf(b.pid);
            const run = await burst(clients, gens, SECONDS);
            // Until the broker has done what the burst left behind (the hub's group commits, summaries). The last, idle
            // window is counted too: under a tenth of a core for 300 ms, ~1 µs per message of a 2 s burst.
            await waitIdle(b.pid, { windowMs: 300 });
            const used = cpuMsOf(b.pid) - cpu0;
            (cpu[`${kind.name} ${b.name}`] ??= []).push((used * 1000) / run.acked);
            log(`ingest by kind, ${kind.name}, run ${r + 1} ${b.name}: ${run.rate.toFixed(0)} msg/s, ${((used * 1000) / run.acked).toFixed(1)} µs CPU per message`);
          }
        } finally {
          await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
        }
        await sleep(100);
      }
    }
  } finally {
    for (const b of brokers) await b.stop();
    await hq.stop();
    files.cleanup();
  }
  return KINDS.map((k) => ({ part: 'ingest by kind', metric: `${k.name}: CPU per message, every thread (hub: until idle again)`, unit: 'µs', hub: cpu[`${k.name} hub`], bare: cpu[`${k.name} bare`] }));
}
