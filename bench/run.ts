/**
 * `npm run bench`: performance of a real hub in this process (real broker, real database, simulated
 * devices over loopback). Prints medians and percentiles; BENCHMARKS.md records the results.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { connectFleet } from '../device-sims/fleet.js';
import { SensorSim } from '../device-sims/sensor.js';
import type { ProfileOverride } from '../device-sims/worker.js';
import type { HubConfig } from '../src/config/config.schema.js';
import { validateConfig } from '../src/config/load-config.js';
import { startHub } from '../src/hub.js';

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];
const fmt = (xs: number[]) => `median ${pct(xs, 50).toFixed(2)} ms, p95 ${pct(xs, 95).toFixed(2)} ms, p99 ${pct(xs, 99).toFixed(2)} ms (n=${xs.length})`;
const FAST: ProfileOverride = { acceptMs: [1, 2], startMs: [1, 2], workMs: { greet: [1, 2], default: [1, 2] }, rejectRate: 0, failRate: 0 };

function config(sensors: number, dbUrl?: string): HubConfig {
  return validateConfig({
    server: { mqttPort: 0, httpPort: 0, dataDir: mkdtempSync(join(tmpdir(), 'hub-bench-')), dbUrl },
    managers: [{ username: 'bench', password: 'bench' }],
    branches: [
      {
        id: 'bench',
        name: 'Bench branch',
        zones: [{ id: 'entrance', entry: true }, { id: 'waiting' }],
        services: [{ id: 'card', name: 'Card', kiosk: true, avgServiceMin: 5 }],
        devices: [
          { id: 'robot-1', kind: 'robot', secret: 'r1', zone: 'entrance', capabilities: ['greet'] },
          { id: 'robot-2', kind: 'robot', secret: 'r2', zone: 'waiting', capabilities: ['greet'] },
          ...Array.from({ length: sensors }, (_, i) => ({ id: `cam-${i}`, kind: 'sensor', secret: `c${i}`, zone: 'entrance' })),
        ],
        rules: { greetCooldownSec: 0 },
      },
    ],
  });
}

/** Footfall → `greet` on the robot's `cmd`, one arrival at a time after the last greeting completed. */
async function greetingLatency(dbUrl?: string, arrivals = 200): Promise<number[]> {
  const cfg = config(1, dbUrl);
  const hub = await startHub(cfg, { logLevel: 'silent' });
  const fleet = await connectFleet(cfg, { url: `mqtt://127.0.0.1:${hub.mqttPort}`, profile: FAST, clock: hub.clock });
  const cam = fleet.sensors.get('cam-0')!;
  const robots = [...fleet.workers.values()];
  const latencies: number[] = [];
  try {
    for (let i = 0; i < arrivals; i++) {
      const marks = robots.map((r) => r.mark());
      const t0 = performance.now();
      await cam.arrive();
      const cmd = await Promise.any(robots.map((r, j) => r.waitFor((m) => m.payload.type === 'greet', { after: marks[j] })));
      latencies.push(performance.now() - t0 - Math.max(0, hub.clock.now() - cmd.at));
      const robot = robots.find((r) => r.received.includes(cmd))!;
      await new Promise<void>((resolve) => {
        const check = () => (robot.completed.includes(String(cmd.payload.taskId)) && robot.busyWith === null ? resolve() : setTimeout(check, 1));
        check();
      });
    }
  } finally {
    await fleet.disconnect();
    await hub.close();
    rmSync(cfg.server.dataDir, { recursive: true, force: true });
  }
  return latencies.slice(10); // the first ones warm up the JIT and the database
}

/** Many sensors publishing occupancy (QoS 1) as fast as the hub acknowledges: validated messages per second. */
async function ingestThroughput(transport: 'tcp' | 'ws', sensors = 20, perSensor = 500): Promise<number> {
  const cfg = config(sensors);
  const hub = await startHub(cfg, { logLevel: 'silent' });
  const url = transport === 'tcp' ? `mqtt://127.0.0.1:${hub.mqttPort}` : `ws://127.0.0.1:${hub.httpPort}/mqtt`;
  const sims = await Promise.all(
    Array.from({ length: sensors }, (_, i) => new SensorSim({ branchId: 'bench', id: `cam-${i}`, secret: `c${i}`, kind: 'sensor', zone: 'entrance' }).connect({ url })),
  );
  try {
    const t0 = performance.now();
    await Promise.all(sims.map(async (s) => { for (let i = 0; i < perSensor; i++) await s.occupancy('waiting', i % 40); }));
    return (sensors * perSensor) / ((performance.now() - t0) / 1000);
  } finally {
    await Promise.all(sims.map((s) => s.disconnect()));
    await hub.close();
    rmSync(cfg.server.dataDir, { recursive: true, force: true });
  }
}

async function postgresUrl(): Promise<string | undefined> {
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test', connectionTimeoutMillis: 1000 });
  try {
    await admin.connect();
    await admin.query('DROP DATABASE IF EXISTS hub_bench WITH (FORCE)');
    await admin.query('CREATE DATABASE hub_bench');
    return 'postgres://postgres@127.0.0.1:5432/hub_bench';
  } catch {
    return undefined;
  } finally {
    await admin.end().catch(() => undefined);
  }
}

const sqlite = await greetingLatency();
console.log(`greeting reaction, footfall → greet cmd at the robot, SQLite:     ${fmt(sqlite)}`);
const pgUrl = await postgresUrl();
if (pgUrl) {
  const postgres = await greetingLatency(pgUrl);
  console.log(`greeting reaction, footfall → greet cmd at the robot, PostgreSQL: ${fmt(postgres)}`);
  console.log(`  PostgreSQL / SQLite median ratio: ${(pct(postgres, 50) / pct(sqlite, 50)).toFixed(2)}`);
} else console.log('PostgreSQL not reachable at 127.0.0.1:5432: skipped');
const runs = (n: number, f: () => Promise<number>) => Array.from({ length: n }).reduce<Promise<number[]>>(async (acc) => [...(await acc), await f()], Promise.resolve([]));
const tcp = await runs(3, () => ingestThroughput('tcp'));
const ws = await runs(3, () => ingestThroughput('ws'));
console.log(`ingest, 20 sensors × 500 occupancy messages (QoS 1), TCP:       median ${pct(tcp, 50).toFixed(0)} msg/s over 3 runs`);
console.log(`ingest, 20 sensors × 500 occupancy messages (QoS 1), WebSocket: median ${pct(ws, 50).toFixed(0)} msg/s over 3 runs`);
console.log(`  WebSocket / TCP median ratio: ${(pct(ws, 50) / pct(tcp, 50)).toFixed(2)}`);
process.exit(0);
