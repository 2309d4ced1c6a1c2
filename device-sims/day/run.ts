import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { Clock } from '../../src/clock/clock.js';
import type { HubConfig } from '../../src/config/config.schema.js';
import { loadConfig } from '../../src/config/load-config.js';
import { clockFromHealth } from '../clock-sync.js';
import { connectFleet } from '../fleet.js';
import { startHubProcess, type HubProcess } from '../hub-process.js';
import type { AppointmentBooking } from './arrivals.js';
import { playDay } from './branch-day.js';
import type { DayRecord, RaisedAlert } from './records.js';
import type { Scenario } from './scenario.js';

type Login = { username: string; password: string };

/** The hub's REST API, as the run's manager. */
export interface HubReader {
  httpUrl: string;
  get<T>(path: string): Promise<T>;
}

export interface RunOptions {
  scenario: Scenario;
  /** false: the hub only observes (`rules.autoDispatch: false`): the no-coordination baseline. */
  coordinated: boolean;
  /** Hub and devices run this many times real time. */
  scale: number;
  from?: string;
  to?: string;
  /** After the doors close, customers still inside are served for at most this long (hub ms, default 2 h). */
  drainMs?: number;
  /** A running hub (its config must be the scenario's): else the run starts its own, in a fresh data dir. */
  hub?: { mqttUrl: string; httpUrl: string };
  /** A manager of the hub, to read its alerts (default: the config's first manager with a plain password). */
  login?: Login;
  /** Headquarters' bookings at the branch: each one's customer comes around its time and takes a ticket carrying its ref. */
  appointments?: readonly AppointmentBooking[];
  signal?: AbortSignal;
  /** Told once the devices are connected: the clock the day runs on, and when its played part starts. */
  onStart?: (clock: Clock) => void;
  /** Told once the day is played and the devices are gone, before a hub started for the run stops: to read more of the hub than its alerts. */
  afterDay?: (hub: HubReader, day: DayRecord) => Promise<void>;
}

/** Plays one scenario day against a hub (started for it, or running) and collects the hub's alerts. */
export async function runDay(opts: RunOptions): Promise<DayRecord> {
  const config = loadConfig({ HUB_CONFIG: opts.scenario.configPath });
  const branch = config.branches.find((b) => b.id === (opts.scenario.branch ?? config.branches[0].id));
  if (!branch) throw new Error(`scenario ${opts.scenario.name}: no branch ${opts.scenario.branch} in ${opts.scenario.configPath}`);
  const own = opts.hub ? undefined : await startOwnHub(opts, branch.id);
  try {
    const hub = opts.hub ?? { mqttUrl: `mqtt://127.0.0.1:${own!.process.mqttPort}`, httpUrl: `http://127.0.0.1:${own!.process.httpPort}` };
    const login = opts.login ?? defaultLogin(config);
    const reader = hubReader(hub.httpUrl, login);
    const clock = await clockFromHealth(hub.httpUrl);
    const fleet = await connectFleet(config, { url: hub.mqttUrl, clock, only: branch.devices.map((d) => d.id) });
    let day: DayRecord;
    try {
      opts.onStart?.(fleet.clock);
      const played = await playDay(opts.scenario, branch, fleet, opts);
      day = { ...played, raisedAlerts: login ? await hubAlerts(reader, branch.id) : [] };
    } finally {
      await fleet.disconnect();
    }
    await opts.afterDay?.(reader, day);
    return day;
  } finally {
    if (own) await own.stop();
  }
}

/** The built hub in a fresh data dir, its clock at the played part's start on the scenario's date, its branch coordinating or only observing. */
async function startOwnHub(opts: RunOptions, branchId: string): Promise<{ process: HubProcess; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'branch-day-'));
  const raw = parse(readFileSync(opts.scenario.configPath, 'utf8')) as { branches: { id: string; rules?: Record<string, unknown> }[] };
  for (const b of raw.branches) if (b.id === branchId) b.rules = { ...b.rules, autoDispatch: opts.coordinated };
  writeFileSync(join(dir, 'hub.yaml'), stringify(raw));
  const start = new Date(`${opts.scenario.date}T${opts.from ?? opts.scenario.open}:00`).toISOString();
  try {
    const hubProcess = await startHubProcess({
      HUB_CONFIG: join(dir, 'hub.yaml'),
      HUB_DATA_DIR: join(dir, 'data'),
      HUB_DB_URL: '',
      HUB_TIME_SCALE: String(opts.scale),
      HUB_CLOCK_START: start,
    });
    return {
      process: hubProcess,
      stop: async () => {
        hubProcess.child.kill('SIGTERM');
        await hubProcess.exited();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

function defaultLogin(config: HubConfig): Login | undefined {
  const m = config.managers.find((x) => x.password !== undefined);
  return m ? { username: m.username, password: m.password! } : undefined;
}

/** Logs in on the first call; without a manager to log in as, every call fails saying so. */
function hubReader(httpUrl: string, login: Login | undefined): HubReader {
  let token: Promise<string> | undefined;
  const logIn = async () => {
    if (!login) throw new Error(`no manager to log in to ${httpUrl} as: give \`login\``);
    const auth = await fetch(`${httpUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(login) });
    if (!auth.ok) throw new Error(`logging in to ${httpUrl} as ${login.username}: HTTP ${auth.status}`);
    return ((await auth.json()) as { token: string }).token;
  };
  return {
    httpUrl,
    get: async <T>(path: string) => {
      token ??= logIn();
      const res = await fetch(`${httpUrl}${path}`, { headers: { authorization: `Bearer ${await token}` } });
      if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    },
  };
}

/** Alerts of the last 24 h as the hub lists them to a manager. */
async function hubAlerts(hub: HubReader, branchId: string): Promise<RaisedAlert[]> {
  return (await hub.get<RaisedAlert[]>(`/api/branches/${branchId}/alerts`)).map(({ type, subject, raisedAt }) => ({ type, subject, raisedAt }));
}
