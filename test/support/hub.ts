import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HubConfig, Rules } from '../../src/config/config.schema.js';
import { validateConfig } from '../../src/config/load-config.js';
import { Branches } from '../../src/branch/branches.service.js';
import { BrokerService } from '../../src/broker/broker.service.js';
import { startHub, type RunningHub } from '../../src/hub.js';

/** A small branch for tests: two robots, two screens, a kiosk, a camera and a queue system. */
export function testConfig(opts: { rules?: Partial<Rules>; server?: Partial<HubConfig['server']>; extraDevices?: object[] } = {}): HubConfig {
  return validateConfig({
    server: { mqttPort: 0, httpPort: 0, dataDir: '/nonexistent', ...opts.server },
    managers: [{ username: 'lobby', password: 'lobby-test' }],
    branches: [
      {
        id: 'br-1',
        name: 'Test branch',
        zones: [{ id: 'entrance', capacity: 10, entry: true }, { id: 'waiting', capacity: 20 }, { id: 'self-service' }, { id: 'counters' }],
        services: [
          { id: 'card', name: 'Cards', kiosk: true, avgServiceMin: 8 },
          { id: 'cash', name: 'Cash', kiosk: false, avgServiceMin: 6 },
        ],
        posts: ['counter-1', 'counter-2'],
        devices: [
          { id: 'robot-1', kind: 'robot', secret: 's-robot-1', zone: 'entrance', capabilities: ['greet', 'guide', 'announce', 'promote'] },
          { id: 'robot-2', kind: 'robot', secret: 's-robot-2', zone: 'waiting', capabilities: ['greet', 'guide', 'announce', 'promote'] },
          { id: 'screen-1', kind: 'screen', secret: 's-screen-1', zone: 'entrance', capabilities: ['display', 'announce'] },
          { id: 'screen-2', kind: 'screen', secret: 's-screen-2', zone: 'waiting', capabilities: ['display', 'promote', 'announce'] },
          { id: 'kiosk-1', kind: 'kiosk', secret: 's-kiosk-1', zone: 'self-service', services: ['card'] },
          { id: 'cam-1', kind: 'sensor', secret: 's-cam-1', zone: 'entrance' },
          { id: 'qms-1', kind: 'queue', secret: 's-qms-1' },
          ...(opts.extraDevices ?? []),
        ],
        campaigns: [{ id: 'gold', title: 'Gold', content: { text: 'gold' }, services: ['cash'] }],
        rules: { ackTimeoutSec: 1, greetCooldownSec: 0.2, ...opts.rules },
      },
    ],
  });
}

/** Two branches; `area-2` manages only br-2, `lobby` both (contract section 6, managers[].branches). */
export function twoBranches(base = testConfig()): HubConfig {
  const br1 = base.branches[0];
  const br2 = { ...br1, id: 'br-2', name: 'Second branch', devices: br1.devices.map((d) => ({ ...d, id: `${d.id}-b`, secret: `${d.secret}-b` })) };
  return validateConfig({ ...base, managers: [...base.managers, { username: 'area-2', password: 'area-pw', branches: ['br-2'] }], branches: [br1, br2] });
}

export interface TestHub {
  config: HubConfig;
  dataDir: string;
  mqttUrl: string;
  wsUrl: string;
  httpUrl: string;
  running: RunningHub;
  /** Stops this hub (data kept) and starts a new one on the same data dir and the same ports. */
  restart(): Promise<TestHub>;
  /** Stops the hub and removes its data dir. */
  close(): Promise<void>;
  stop(): Promise<void>;
  token(): Promise<string>;
  /** Waits until the hub has handled everything devices sent so far (a barrier, not a sleep). */
  settle(): Promise<void>;
  /** REST call as the test manager; returns status and parsed body. */
  api<T = any>(method: string, path: string, body?: unknown, token?: string | null): Promise<{ status: number; body: T }>;
}

/** A real hub in this process: real broker on free ports, real SQLite file in a fresh temp dir. */
export async function startTestHub(config: HubConfig = testConfig(), dataDir = mkdtempSync(join(tmpdir(), 'hub-test-'))): Promise<TestHub> {
  const cfg: HubConfig = { ...config, server: { ...config.server, dataDir: config.server.dbUrl ? config.server.dataDir : dataDir } };
  const running = await startHub(cfg, { logLevel: (process.env.HUB_TEST_LOG as 'log') ?? 'silent' });
  const httpUrl = `http://127.0.0.1:${running.httpPort}`;
  let token: string | undefined;
  const hub: TestHub = {
    config: cfg,
    dataDir,
    mqttUrl: `mqtt://127.0.0.1:${running.mqttPort}`,
    wsUrl: `ws://127.0.0.1:${running.httpPort}/mqtt`,
    httpUrl,
    running,
    restart: async () => {
      await running.close();
      return startTestHub({ ...cfg, server: { ...cfg.server, mqttPort: running.mqttPort, httpPort: running.httpPort } }, dataDir);
    },
    stop: () => running.close(),
    close: async () => {
      await running.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
    settle: async () => {
      await running.app.get(BrokerService).settled();
      await running.app.get(Branches).settled();
    },
    token: async () => {
      if (!token) token = (await hub.api<{ token: string }>('POST', '/api/auth/login', { username: 'lobby', password: 'lobby-test' }, null)).body.token;
      return token;
    },
    api: async (method, path, body, tok) => {
      const auth = tok === null ? undefined : (tok ?? (await hub.token()));
      const res = await fetch(httpUrl + path, {
        method,
        headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        /* not JSON: keep the text */
      }
      return { status: res.status, body: parsed as never };
    },
  };
  return hub;
}

type Truthy<T> = Exclude<T, false | null | undefined | 0 | ''>;

/** Polls `probe` until it returns a truthy value (awaiting an observable effect, not sleeping a fixed time). */
export async function eventually<T>(probe: () => T | Promise<T>, timeoutMs = 5000, what = 'condition'): Promise<Truthy<T>> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v as Truthy<T>;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
