/**
 * Dashboard fan-out: SOCKETS Socket.IO clients on `/dashboard` (WebSocket transport, the manager's token), each
 * with its snapshot; one of them sends `dispatch` (a `display` task to a connected screen) COMMANDS times,
 * one after the other. Latency = emit of the command → the first `task` event of that task on each socket;
 * p99 over all sockets × commands. The branch's ten devices are online (connectFleet, fast screens and robots).
 * Bare: the same clients against a bare Socket.IO server that broadcasts one event per command.
 */
import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { io, type Socket } from 'socket.io-client';
import { connectFleet } from '../device-sims/fleet.js';
import type { HubConfig } from '../src/config/config.schema.js';
import { validateConfig } from '../src/config/load-config.js';
import { branchesConfig, log, login, pct, sleep, startHub, stopChild, writeConfig, type BenchOptions, type Row } from './harness.js';

const SOCKETS = 100;
const COMMANDS = 30;

async function measure(url: string, token: string, branchId: string): Promise<number[]> {
  const sockets: Socket[] = [];
  const seen: Map<string, number>[] = [];
  try {
    await Promise.all(
      Array.from({ length: SOCKETS }, (_, k) => {
        const s = io(`${url}/dashboard`, { auth: { token }, transports: ['websocket'], reconnection: false });
        sockets.push(s);
        const mine = new Map<string, number>();
        seen.push(mine);
        s.on('task', (t: { id: string }) => void (mine.has(t.id) || mine.set(t.id, performance.now())));
        void k;
        return new Promise<void>((resolve, reject) => {
          s.once('snapshot', () => resolve());
          s.once('connect_error', reject);
        });
      }),
    );
    const latencies: number[] = [];
    for (let c = 0; c < COMMANDS; c++) {
      const t0 = performance.now();
      const answer = await new Promise<{ ok: boolean; task?: { id: string }; error?: string }>((resolve) =>
        sockets[0].emit('dispatch', { branchId, type: 'display', deviceId: `${branchId}-${c % 2 ? 'screen-1' : 'screen-2'}`, params: { view: 'welcome' } }, resolve),
      );
      if (!answer.ok || !answer.task) throw new Error(`dispatch refused: ${answer.error}`);
      const id = answer.task.id;
      const end = Date.now() + 3000;
      while (seen.some((m) => !m.has(id)) && Date.now() < end) await sleep(2);
      for (const m of seen) latencies.push(m.has(id) ? m.get(id)! - t0 : Infinity);
      await sleep(100); // the screen finishes in a few ms; the next command finds it free
    }
    return latencies;
  } finally {
    for (const s of sockets) s.disconnect();
  }
}

export async function fanout(opts: BenchOptions): Promise<Row[]> {
  const { config } = branchesConfig(1);
  const files = writeConfig(config);
  const hub = await startHub(files.file, files.dataDir, opts);
  const cfg = validateConfig(config) as HubConfig;
  const fleet = await connectFleet(cfg, { url: hub.mqttUrl, profile: { acceptMs: [1, 2], startMs: [1, 2], workMs: { default: [1, 2] }, rejectRate: 0, failRate: 0 } });
  const here = dirname(fileURLToPath(import.meta.url));
  const bareChild = fork(join(here, 'bare-socketio.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const barePort = await new Promise<number>((r) => bareChild.once('message', (m: { port: number }) => r(m.port)));
  const hubP99: number[] = [];
  const bareP99: number[] = [];
  const hubP50: number[] = [];
  const bareP50: number[] = [];
  try {
    const token = await login(hub.httpUrl!);
    await measure(hub.httpUrl!, token, cfg.branches[0].id); // warm-up
    for (let r = 0; r < opts.runs; r++) {
      const h = await measure(hub.httpUrl!, token, cfg.branches[0].id);
      const b = await measure(`http://127.0.0.1:${barePort}`, token, cfg.branches[0].id);
      hubP99.push(pct(h, 99));
      bareP99.push(pct(b, 99));
      hubP50.push(pct(h, 50));
      bareP50.push(pct(b, 50));
      log(`fan-out run ${r + 1}: hub p50 ${pct(h, 50).toFixed(2)} p99 ${pct(h, 99).toFixed(2)} ms; bare p50 ${pct(b, 50).toFixed(2)} p99 ${pct(b, 99).toFixed(2)} ms`);
    }
  } finally {
    await fleet.disconnect();
    await hub.stop();
    await stopChild(bareChild);
    files.cleanup();
  }
  return [
    { part: 'fan-out', metric: `${SOCKETS} sockets: dispatch → task event p50 (bare: Socket.IO broadcast)`, unit: 'ms', hub: hubP50, bare: bareP50 },
    { part: 'fan-out', metric: `${SOCKETS} sockets: dispatch → task event p99`, unit: 'ms', hub: hubP99, bare: bareP99, target: { kind: 'abs', op: '<', value: 50, label: 'hub < 50 ms' } },
  ];
}
