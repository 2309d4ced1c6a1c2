/**
 * Reaction: footfall `in` from a camera → `greet` received on a robot's `cmd` (QoS 1 both ways), at a steady
 * 100 arrivals/s spread over 50 branches (one every 500 ms per branch, branches staggered by 10 ms). Robots
 * and screens are WorkerSims that accept and finish in a few ms, so one is always free. Latency = send of the footfall
 * → arrival of the greet at the robot, both in this process (performance.now). For every 10th greet the
 * hub's SQLite file is read (read-only, from this process) the moment the command arrives: the task row must
 * already be there. Bare: the same cameras publish the same footfall to a bare aedes and the robots'
 * connections subscribe to it — the publish→subscribe round trip the hub's reaction is compared with.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import sqlite3 from 'sqlite3';
import { SensorSim } from '../device-sims/sensor.js';
import { WorkerSim, type ProfileOverride } from '../device-sims/worker.js';
import {
  branchId,
  branchDevices,
  branchesConfig,
  log,
  median,
  pct,
  sleep,
  startBare,
  startClientProcess,
  startHub,
  waitIdle,
  withHeadquarters,
  writeConfig,
  type BenchOptions,
  type Broker,
  type Row,
} from './harness.js';

export const REACTION_BRANCHES = 50;
/**
 * Arrivals before the measured ones. The first seconds after the hub starts have a tail of their own (one run each,
 * 100/s: p99 19–87 ms measured after 2 s, 13–15 ms after 8 s; BENCHMARKS.md part 9): what a branch sees all day is
 * what comes after, and start-up is measured on its own.
 */
const WARMUP_S = 8;
/** How long after the last arrival a late greet still counts (a saturated hub answers seconds late). */
const GRACE_MS = 10_000;
const FAST: ProfileOverride = { acceptMs: [1, 2], startMs: [1, 2], workMs: { greet: [1, 2], default: [1, 2] }, rejectRate: 0, failRate: 0 };

/** Devices the reaction drives itself in each of its branches; the others may be held by client processes. */
export const REACTION_IDS = ['cam-1', 'robot-1', 'robot-2', 'screen-1', 'screen-2'];

export interface ReactionResult {
  samples: number[];
  /** Arrivals of the measured window that got no greet (within GRACE_MS of the last one sent). */
  missed: number;
  checked: number;
  persisted: number;
  /**
   * The longest the measuring process's own event loop was held up during the run (ms): its devices share the two
   * cores with the hub, and a greet received late because this process was busy counts against the hub.
   */
  ownDelayMax: number;
}

/**
 * Runs the 100/s arrivals for `seconds` (after a warm-up) against the hub or a bare aedes. Each footfall
 * carries its sequence number as `segment`, which the greeting flow copies into the greet's params, so every
 * greet is matched to its own arrival even when greets come late or some arrivals get none.
 */
export async function reactionLoad(broker: Broker, seconds: number, RATE = 100): Promise<ReactionResult> {
  const sends: ((segment: string) => void)[] = [];
  const sentAt = new Map<string, number>();
  const samples: number[] = [];
  const ownDelay = monitorEventLoopDelay({ resolution: 1 });
    let measured = 0;
  let checked = 0;
  let persisted = 0;
  let greets = 0;
  const checks: Promise<void>[] = [];
  const closers: (() => Promise<unknown>)[] = [];
  const db = broker.name === 'hub' ? new sqlite3.Database(join(broker.dataDir!, 'hub.sqlite'), sqlite3.OPEN_READONLY) : undefined;
  const received = (segment: unknown, taskId?: string) => {
    const now = performance.now();
    const t = typeof segment === 'string' ? sentAt.get(segment) : undefined;
    if (t === undefined) return;
    sentAt.delete(segment as string);
    if (!(segment as string).startsWith('m')) return; // warm-up
    samples.push(now - t);
    if (db && taskId && greets++ % 10 === 0) {
      checked++;
      checks.push(new Promise((r) => db.get('SELECT id FROM task WHERE id = ?', [taskId], (err, row) => r(void (!err && row && persisted++)))));
    }
  };
  try {
    for (let i = 0; i < REACTION_BRANCHES; i++) {
      const b = branchId(i);
      const ds = branchDevices(b).filter((d) => REACTION_IDS.includes(d.role));
      const cam = ds.find((d) => d.role === 'cam-1')!;
      if (broker.name === 'hub') {
        const sensor = await new SensorSim(cam).connect({ url: broker.mqttUrl });
        closers.push(() => sensor.disconnect());
        for (const w of ds.filter((d) => d.kind === 'robot' || d.kind === 'screen')) {
          const worker = await new WorkerSim(w, FAST).connect({ url: broker.mqttUrl });
          closers.push(() => worker.disconnect());
          if (w.kind === 'robot') {
            worker.client.on('message', (_t, payload) => {
              const cmd = JSON.parse(payload.toString()) as { type?: string; taskId?: string; params?: { segment?: unknown } };
              if (cmd.type === 'greet') received(cmd.params?.segment, cmd.taskId);
            });
          }
        }
        sends.push((segment) => void sensor.arrive({ segment }).catch(() => undefined));
      } else {
        const topic = `branch/${b}/devices/${cam.id}/footfall`;
        const conn = async (id: string, secret: string) => {
          const c: MqttClient = await mqtt.connectAsync(broker.mqttUrl, { clientId: id, username: id, password: secret, reconnectPeriod: 0 });
          (c.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
          closers.push(() => c.endAsync());
          return c;
        };
        const pub = await conn(cam.id, cam.secret);
        const robot = ds.find((d) => d.role === 'robot-1')!;
        const sub = await conn(robot.id, robot.secret);
        await sub.subscribeAsync(topic, { qos: 1 });
        sub.on('message', (_t, payload) => received((JSON.parse(payload.toString()) as { segment?: unknown }).segment));
        sends.push((segment) => pub.publish(topic, JSON.stringify({ ts: new Date().toISOString(), direction: 'in', segment }), { qos: 1 }));
      }
    }
    // One arrival every 1000/RATE ms, round robin over the branches, on a self-correcting schedule.
    const step = 1000 / RATE;
    ownDelay.enable();
    const t0 = performance.now();
    const total = (WARMUP_S + seconds) * RATE;
    for (let k = 0; k < total; k++) {
      const due = t0 + k * step;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const measuring = k >= WARMUP_S * RATE;
      if (measuring) measured++;
      const segment = `${measuring ? 'm' : 'w'}${k}`;
      sentAt.set(segment, performance.now());
      sends[k % sends.length](segment);
    }
    const end = Date.now() + GRACE_MS;
    while ([...sentAt.keys()].some((s) => s.startsWith('m')) && Date.now() < end) await sleep(20);
    await Promise.all(checks);
  } finally {
    ownDelay.disable();
    await Promise.all(closers.map((c) => c().catch(() => undefined)));
    db?.close();
  }
  return { samples, missed: measured - samples.length, checked, persisted, ownDelayMax: ownDelay.max / 1e6 };
}

export function reactionRows(part: string, rate: number, hub: ReactionResult[], bare: ReactionResult[]): Row[] {
  const per = (rs: ReactionResult[], p: number) => rs.map((r) => pct(r.samples, p));
  const max = (rs: ReactionResult[]) => rs.map((r) => (r.samples.length ? Math.max(...r.samples) : NaN));
  const n = (rs: ReactionResult[]) => rs.map((r) => r.samples.length);
  const note = (rs: ReactionResult[]) => `n=${n(rs).join('/')}, arrivals without a greet ${rs.map((r) => r.missed).join('/')}`;
  return [
    { part, metric: `${rate}/s: footfall → greet p50 (bare: publish → subscribe)`, unit: 'ms', hub: per(hub, 50), bare: per(bare, 50), target: { kind: 'ratio', op: '<=', value: 10, label: 'hub/bare ≤ 10' }, note: `hub ${note(hub)}; bare ${note(bare)}` },
    { part, metric: `${rate}/s: footfall → greet p99`, unit: 'ms', hub: per(hub, 99), bare: per(bare, 99), target: { kind: 'abs', op: '<', value: 20, label: 'hub < 20 ms' } },
    { part, metric: `${rate}/s: footfall → greet max`, unit: 'ms', hub: max(hub), bare: max(bare) },
    { part, metric: `${rate}/s: the measuring process's own longest event-loop delay`, unit: 'ms', hub: hub.map((r) => r.ownDelayMax), bare: bare.map((r) => r.ownDelayMax) },
    {
      part,
      metric: `${rate}/s: task row in the database when its greet arrives`,
      unit: '%',
      hub: hub.map((r) => (r.checked ? (100 * r.persisted) / r.checked : NaN)),
      target: { kind: 'abs', op: '<=', value: 100, label: '100 % (checked every 10th)' },
      note: `checked ${hub.map((r) => `${r.persisted}/${r.checked}`).join(', ')}`,
    },
  ];
}

export async function reaction(opts: BenchOptions): Promise<Row[]> {
  const { config, devices } = branchesConfig(REACTION_BRANCHES);
  const hq = await withHeadquarters(config); // the hub with its uplink, as in a branch
  const files = writeConfig(config);
  const hub = await startHub(files.file, files.dataDir, opts);
  const bare = await startBare();
  // The other seven devices of each branch are online too (held by a client process), as in a real branch.
  const holder = await startClientProcess();
  const runs = new Map(opts.reactionRates.map((rate) => [rate, { hub: [] as ReactionResult[], bare: [] as ReactionResult[] }]));
  try {
    await holder.ask({ cmd: 'connect', url: hub.mqttUrl, devices: devices.filter((d) => !REACTION_IDS.includes(d.role)), concurrency: 20 });
    await sleep(1000);
    for (let r = 0; r < opts.runs; r++) {
      for (const [rate, rs] of runs) {
        await waitIdle(hub.pid, { maxMs: 60_000 }); // what a saturating load left queued is not the next one's latency
        const h = await reactionLoad(hub, 10, rate);
        rs.hub.push(h);
        log(`reaction ${rate}/s run ${r + 1} hub: p50 ${median(h.samples).toFixed(2)} p99 ${pct(h.samples, 99).toFixed(2)} ms, n ${h.samples.length}, no greet ${h.missed}, persisted ${h.persisted}/${h.checked}, own delay max ${h.ownDelayMax.toFixed(1)} ms`);
        const b = await reactionLoad(bare, 10, rate);
        rs.bare.push(b);
        log(`reaction ${rate}/s run ${r + 1} bare: p50 ${median(b.samples).toFixed(3)} p99 ${pct(b.samples, 99).toFixed(3)} ms, n ${b.samples.length}`);
      }
    }
  } finally {
    await holder.stop();
    await hub.stop();
    await bare.stop();
    await hq.stop();
    files.cleanup();
  }
  return [...runs].flatMap(([rate, rs]) => reactionRows('reaction', rate, rs.hub, rs.bare));
}
