/**
 * Start-up: the built hub (dist/hub.mjs, a child process) from spawn to the first `/api/health` 200,
 * polled every 20 ms on ports chosen beforehand, on a fresh data dir (migrations included): with the demo
 * config (config/hub.yaml) and with a generated config of 1,000 branches (10,000 devices). The floor: a bare
 * aedes child from spawn to listening.
 */
import { spawnHub } from '../device-sims/hub-process.js';
import { branchesConfig, freePort, log, profiling, median, sleep, startBare, stopChild, writeConfig, type BenchOptions, type Row } from './harness.js';

async function timeHub(configFile: string, dataDir: string, cpuProfDir?: string): Promise<number> {
  const [mqttPort, httpPort] = [await freePort(), await freePort()];
  const env: Record<string, string> = { HUB_CONFIG: configFile, HUB_DATA_DIR: dataDir, HUB_MQTT_PORT: String(mqttPort), HUB_HTTP_PORT: String(httpPort), HUB_LOG_LEVEL: 'error' };
  const t0 = performance.now();
  const child = spawnHub(env, profiling(cpuProfDir));
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`hub exited (${child.exitCode}): ${out}`);
      try {
        const res = await fetch(`http://127.0.0.1:${httpPort}/api/health`);
        if (res.status === 200) return performance.now() - t0;
      } catch {
        /* not listening yet */
      }
      if (performance.now() - t0 > 120_000) throw new Error(`no /api/health 200 within 120 s: ${out}`);
      await sleep(20);
    }
  } finally {
    await stopChild(child);
  }
}

export async function startup(opts: BenchOptions & { startupBranches?: number }): Promise<Row[]> {
  const n = opts.startupBranches ?? 1000;
  const big = writeConfig(branchesConfig(n).config);
  const demo: number[] = [];
  const many: number[] = [];
  const bare: number[] = [];
  try {
    for (let r = 0; r < opts.runs; r++) {
      const d = writeConfig({}); // a fresh data dir next to nothing: the demo config is read from config/hub.yaml
      try {
        demo.push(await timeHub('config/hub.yaml', d.dataDir, opts.cpuProfDir));
      } finally {
        d.cleanup();
      }
      const dataDir = `${big.dir}/data-${r}`;
      many.push(await timeHub(big.file, dataDir, opts.cpuProfDir));
      const t0 = performance.now();
      const b = await startBare();
      bare.push(performance.now() - t0);
      await stopChild(b.child);
      log(`start-up run ${r + 1}: demo ${demo.at(-1)!.toFixed(0)} ms, ${n} branches ${many.at(-1)!.toFixed(0)} ms, bare aedes ${bare.at(-1)!.toFixed(0)} ms`);
    }
  } finally {
    big.cleanup();
  }
  log(`start-up medians: demo ${median(demo).toFixed(0)} ms, ${n} branches ${median(many).toFixed(0)} ms`);
  return [
    { part: 'start-up', metric: 'spawn → /api/health 200, demo config, fresh data dir', unit: 'ms', hub: demo, bare, note: 'bare = a bare aedes child from spawn to listening' },
    { part: 'start-up', metric: `spawn → /api/health 200, ${n} branches (${n * 10} devices), fresh data dir`, unit: 'ms', hub: many, bare, target: { kind: 'abs', op: '<', value: 2000, label: 'hub < 2 s' } },
  ];
}
