import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { HUB_ENTRY, HUB_NODE_FLAGS } from '../src/node-flags.js';
import { packageRoot } from '../src/package-root.js';

/** The built hub, `npm start`'s entry point. */
const MAIN = join(packageRoot(import.meta.dirname), HUB_ENTRY);

export interface HubProcess {
  child: ChildProcess;
  mqttPort: number;
  httpPort: number;
  output: () => string;
  /** Resolves with the exit code (or signal name) and how long after the call it came. */
  exited: () => Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs the built hub (`npm start`'s command, with its node flags) as a child process, for tests, the day simulator
 * and the benchmark; ports 0 unless env says otherwise. `nodeArgs` go to node itself (e.g. `--cpu-prof`, which NODE_OPTIONS refuses).
 */
export function spawnHub(env: Record<string, string>, nodeArgs: string[] = []): ChildProcess {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first (npm test does)`);
  return spawn(process.execPath, [...HUB_NODE_FLAGS, ...nodeArgs, MAIN], {
    env: { ...process.env, HUB_MQTT_PORT: '0', HUB_HTTP_PORT: '0', HUB_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Starts the built hub and waits for its ready line, which names the ports it bound. */
export function startHubProcess(env: Record<string, string>, nodeArgs: string[] = []): Promise<HubProcess> {
  const child = spawnHub(env, nodeArgs);
  let out = '';
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = out.match(/MQTT tcp:\/\/[^:]+:(\d+), HTTP http:\/\/localhost:(\d+)/);
      if (m) resolve({ child, mqttPort: Number(m[1]), httpPort: Number(m[2]), output: () => out, exited: () => exit });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exit.then(({ code }) => reject(new Error(`hub exited (${code}) before it was ready: ${out}`)));
  });
}

/** Runs the hub expecting it to fail start-up: its exit code and what it printed on stderr. */
export function failedStart(env: Record<string, string>): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const child = spawnHub(env);
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdout!.on('data', (d) => (stdout += d));
  // Real ms: a guard for a hub that neither fails nor starts, whatever its clock says.
  const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout });
    }),
  );
}
