/**
 * What every measurement of `npm run bench` shares: free ports, the hub and a bare aedes broker as child
 * processes (so each one's CPU and RSS are its own), generated configs of N branches with device
 * credentials, percentiles, RSS sampling, and the result rows the table is printed from.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startHubProcess, type HubProcess } from '../device-sims/hub-process.js';

const HERE = dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------- numbers

/** Nearest-rank percentile (p in 0..100) of unsorted samples. */
export function pct(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((s.length * p) / 100) - 1))];
}
export const median = (xs: readonly number[]) => pct(xs, 50);
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- options and results

export interface BenchOptions {
  /** Repetitions of the cheap measurements (ingest, reaction, fan-out, start-up). */
  runs: number;
  /** When set, hub children run with `--cpu-prof` into this folder. */
  cpuProfDir?: string;
  /** Devices of the scale measurement (default 10,000 over 1,000 branches). */
  scaleDevices: number;
  /** Arrivals per second of the reaction load, each measured (default 100 — the issue's — and 10, below saturation). */
  reactionRates: number[];
}

export interface Row {
  part: string;
  metric: string;
  unit: string;
  /** One value per run; the table shows the median. */
  hub: number[];
  bare?: number[];
  /** Which way the ratio is formed and what it must be, or an absolute target on the hub's value. */
  target?: { kind: 'ratio'; op: '>=' | '<='; value: number; label: string } | { kind: 'abs'; op: '<' | '<='; value: number; label: string };
  note?: string;
}

export function log(...args: unknown[]): void {
  const t = new Date().toISOString().slice(11, 19);
  console.error(`[${t}]`, ...args);
}

// ---------------------------------------------------------------- ports

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------- configs

export interface BenchDevice {
  branchId: string;
  /** Its part in the branch (`robot-1`, `cam-1`, …); ids are unique over the whole hub: `{branch}-{role}`. */
  role: string;
  id: string;
  secret: string;
  kind: 'robot' | 'screen' | 'sensor' | 'queue';
  zone?: string;
}

export const MANAGER = { username: 'bench', password: 'bench-pass' };

/**
 * Ten devices per branch, as a real branch has: two robots (entrance, waiting), two screens, five cameras,
 * the queue system. Branch ids `b0000`…, device ids `b0000-robot-1`…; every device has its own secret.
 */
export function branchDevices(branchId: string): BenchDevice[] {
  const d = (role: string, kind: BenchDevice['kind'], zone?: string): BenchDevice => ({ branchId, role, id: `${branchId}-${role}`, secret: `s-${branchId}-${role}`, kind, zone });
  return [
    d('robot-1', 'robot', 'entrance'),
    d('robot-2', 'robot', 'waiting'),
    d('screen-1', 'screen', 'entrance'),
    d('screen-2', 'screen', 'waiting'),
    d('cam-1', 'sensor', 'entrance'),
    d('cam-2', 'sensor', 'waiting'),
    d('cam-3', 'sensor', 'waiting'),
    d('cam-4', 'sensor', 'counters'),
    d('cam-5', 'sensor', 'entrance'),
    d('qms-1', 'queue'),
  ];
}

export const branchId = (i: number) => `b${String(i).padStart(4, '0')}`;

/** A hub config (plain object, valid YAML as JSON) of `n` branches of ten devices each. */
export function branchesConfig(n: number, rules: Record<string, unknown> = {}): { config: object; devices: BenchDevice[] } {
  const devices: BenchDevice[] = [];
  const branches = Array.from({ length: n }, (_, i) => {
    const id = branchId(i);
    const ds = branchDevices(id);
    devices.push(...ds);
    return {
      id,
      name: `Bench branch ${i}`,
      zones: [{ id: 'entrance', capacity: 15, entry: true }, { id: 'waiting', capacity: 40 }, { id: 'counters' }],
      services: [
        { id: 'cash', name: 'Cash', kiosk: false, avgServiceMin: 6 },
        { id: 'card', name: 'Cards', kiosk: false, avgServiceMin: 8 },
      ],
      posts: ['counter-1', 'counter-2'],
      devices: ds.map((x) => ({
        id: x.id,
        kind: x.kind,
        secret: x.secret,
        ...(x.zone ? { zone: x.zone } : {}),
        ...(x.kind === 'robot' ? { capabilities: ['greet', 'guide', 'announce', 'promote'] } : {}),
        ...(x.kind === 'screen' ? { capabilities: ['display', 'announce', 'promote'] } : {}),
      })),
      // The ingest part's devices send thousands of messages a second each: far over a real device's 50 (contract section 3).
      rules: { greetCooldownSec: 0, maxMsgPerSec: 1_000_000, ...rules },
    };
  });
  return { config: { server: { mqttPort: 0, httpPort: 0, dataDir: './data' }, managers: [MANAGER], branches }, devices };
}

/** Writes a config to a fresh temp folder; returns the file and a data dir next to it. */
export function writeConfig(config: object): { file: string; dataDir: string; dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'hub-bench-'));
  const file = join(dir, 'hub.yaml');
  writeFileSync(file, JSON.stringify(config)); // JSON is YAML
  return { file, dataDir: join(dir, 'data'), dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

// ---------------------------------------------------------------- the hub and bare aedes as children

export interface Broker {
  name: 'hub' | 'bare';
  pid: number;
  mqttUrl: string;
  mqttPort: number;
  httpPort?: number;
  httpUrl?: string;
  dataDir?: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Node's own options for the hub: with `cpuProfDir`, `--cpu-prof` (the profile is written when the hub exits). */
export const profiling = (cpuProfDir?: string): string[] => (cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : []);

/** The built hub (dist/hub.mjs via device-sims/hub-process.ts) on its own process, fresh data dir, logs at error. */
export async function startHub(configFile: string, dataDir: string, opts: Pick<BenchOptions, 'cpuProfDir'> = {}): Promise<Broker> {
  const env: Record<string, string> = { HUB_CONFIG: configFile, HUB_DATA_DIR: dataDir, HUB_LOG_LEVEL: 'error' };
  const hub: HubProcess = await startHubProcess(env, profiling(opts.cpuProfDir));
  return {
    name: 'hub',
    pid: hub.child.pid!,
    mqttPort: hub.mqttPort,
    mqttUrl: `mqtt://127.0.0.1:${hub.mqttPort}`,
    httpPort: hub.httpPort,
    httpUrl: `http://127.0.0.1:${hub.httpPort}`,
    dataDir,
    child: hub.child,
    stop: () => stopChild(hub.child),
  };
}

/** A bare aedes broker started the way the hub starts its own (bench/bare-broker.ts), on its own process. */
export function startBare(): Promise<Broker> {
  const child = fork(join(HERE, 'bare-broker.js'), [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stderr!.on('data', (d) => (out += d));
    child.once('message', (m: { port: number }) =>
      resolve({ name: 'bare', pid: child.pid!, mqttPort: m.port, mqttUrl: `mqtt://127.0.0.1:${m.port}`, child, stop: () => stopChild(child) }),
    );
    child.once('exit', (code) => reject(new Error(`bare broker exited (${code}): ${out}`)));
  });
}

/**
 * Headquarters for the hub's uplink (contract section 8): a bare aedes child the config's `uplink` points at, so the
 * hub runs with every event numbered and sent, as in a branch (issue 12: flows, analytics and the uplink in place).
 */
export async function withHeadquarters(config: object): Promise<Broker> {
  const hq = await startBare();
  Object.assign(config, { uplink: { url: hq.mqttUrl, clientId: 'bench-hub', kpiIntervalSec: 60 } });
  return hq;
}

/** SIGTERM, then SIGKILL after 8 s; resolves when it is gone. */
export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 8000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

// ---------------------------------------------------------------- RSS and load

/** Resident set size of a process in bytes (Linux /proc). */
export function rssOf(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return m ? Number(m[1]) * 1024 : NaN;
}

/** Samples a process's RSS every `everyMs` until stopped: the peak and the last value. */
export function sampleRss(pid: number, everyMs = 100): { stop: () => { peak: number; last: number } } {
  let peak = 0;
  let last = 0;
  const take = () => {
    try {
      last = rssOf(pid);
      peak = Math.max(peak, last);
    } catch {
      /* gone */
    }
  };
  take();
  const t = setInterval(take, everyMs);
  return {
    stop: () => {
      clearInterval(t);
      take();
      return { peak, last };
    },
  };
}

/** CPU time (user + system) a process has used, in ms (Linux /proc, 100 ticks/s). */
export function cpuMsOf(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

/**
 * Waits until a process is idle: under `busy` of a core over a `windowMs` window (what it was still doing
 * after its clients were served — queued presence work, say — is over). Resolves with the ms it took.
 */
export async function waitIdle(pid: number, opts: { busy?: number; windowMs?: number; maxMs?: number } = {}): Promise<number> {
  const { busy = 0.1, windowMs = 1000, maxMs = 180_000 } = opts;
  const t0 = performance.now();
  for (;;) {
    const c0 = cpuMsOf(pid);
    const w0 = performance.now();
    await sleep(windowMs);
    const used = (cpuMsOf(pid) - c0) / (performance.now() - w0);
    if (used < busy || performance.now() - t0 > maxMs) return performance.now() - t0 - windowMs;
  }
}

export function loadavg(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

// ---------------------------------------------------------------- HTTP helpers

export async function login(httpUrl: string): Promise<string> {
  const res = await fetch(`${httpUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(MANAGER) });
  if (!res.ok) throw new Error(`login: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

// ---------------------------------------------------------------- client processes

export interface ClientProcess {
  child: ChildProcess;
  /** Asks it something and waits for the answer of the same `cmd`. */
  ask<T>(msg: { cmd: string } & Record<string, unknown>): Promise<T>;
  stop(): Promise<void>;
}

/** A child process holding MQTT.js connections (bench/clients.ts): many connections from one Node process would measure the client, not the broker. */
export function startClientProcess(): Promise<ClientProcess> {
  const child = fork(join(HERE, 'clients.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: ['--max-old-space-size=2048'] });
  const ask = <T>(msg: { cmd: string } & Record<string, unknown>) =>
    new Promise<T>((resolve, reject) => {
      const on = (m: { cmd: string; error?: string } & T) => {
        if (m.cmd !== msg.cmd) return;
        child.off('message', on);
        if (m.error) reject(new Error(m.error));
        else resolve(m);
      };
      child.on('message', on);
      child.send(msg);
    });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve({ child, ask, stop: () => stopChild(child) }));
    child.once('exit', (code) => reject(new Error(`client process exited (${code})`)));
  });
}
