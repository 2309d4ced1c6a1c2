import mqtt from 'mqtt';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clockFromHealth } from '../device-sims/clock-sync.js';
import { connectFleet } from '../device-sims/fleet.js';
import { loadConfig } from '../src/config/load-config.js';
import { eventually } from './support/hub.js';
import { FAST } from './support/fleet.js';
import { startHubProcess, type HubProcess } from '../device-sims/hub-process.js';

/** The demo config with some rules changed (YAML under the demo branch's `rules:`). */
function demoWith(dir: string, rules: string): string {
  const file = join(dir, 'hub.yaml');
  writeFileSync(file, readFileSync('config/hub.yaml', 'utf8').replace('greetCooldownSec: 5', `greetCooldownSec: 5\n      ${rules}`));
  return file;
}

async function api(hub: HubProcess, method: string, path: string, body?: object): Promise<any> {
  const base = `http://127.0.0.1:${hub.httpPort}`;
  const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'lobby', password: 'lobby-demo' }) });
  const { token } = (await login.json()) as { token: string };
  const res = await fetch(base + path, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: body && JSON.stringify(body) });
  return res.json();
}

/** Where the hub's clock is now (`/api/health`). */
async function clockNow(hub: HubProcess): Promise<string> {
  return ((await (await fetch(`http://127.0.0.1:${hub.httpPort}/api/health`)).json()) as { clock: { now: string } }).clock.now;
}

/** The hub's one clock (contract section 9), as branch IT sets it: HUB_TIME_SCALE and HUB_CLOCK_START. */
describe('the hub on a scaled clock', () => {
  let dir: string;
  const hubs: HubProcess[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hub-clock-'));
  });
  afterEach(async () => {
    for (const hub of hubs.splice(0)) {
      hub.child.kill('SIGKILL');
      await hub.exited();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('at HUB_TIME_SCALE 60, a 30 s ack timeout fires in about half a second, and every time it reports is on its clock', async () => {
    const file = demoWith(dir, 'ackTimeoutSec: 30');
    const hub = await startHubProcess({ HUB_CONFIG: file, HUB_DATA_DIR: dir, HUB_TIME_SCALE: '60', HUB_CLOCK_START: '2026-11-23T09:00:00+08:00' });
    hubs.push(hub);
    const health = (await (await fetch(`http://127.0.0.1:${hub.httpPort}/api/health`)).json()) as { clock: { now: string; scale: number } };
    expect(health.clock.scale).toBe(60);
    expect(Date.parse(health.clock.now) - Date.parse('2026-11-23T01:00:00Z')).toBeLessThan(5 * 60_000); // minutes of hub time since start-up at most

    // A simulator reads the hub's clock the same way (device-sims/clock-sync.ts) and keeps in step with it:
    // a later reading of the hub falls between the synced clock's readings around it, give or take 3 real ms.
    const synced = await clockFromHealth(`http://127.0.0.1:${hub.httpPort}`);
    expect(synced.scale).toBe(60);
    const before = synced.now();
    const later = Date.parse(((await (await fetch(`http://127.0.0.1:${hub.httpPort}/api/health`)).json()) as { clock: { now: string } }).clock.now);
    const after = synced.now();
    expect(later).toBeGreaterThanOrEqual(before - 3 * 60);
    expect(later).toBeLessThanOrEqual(after + 3 * 60);

    const fleet = await connectFleet(loadConfig({ HUB_CONFIG: file }), { url: `mqtt://127.0.0.1:${hub.mqttPort}`, only: ['robot-1', 'robot-2'], profile: FAST, profiles: { 'robot-1': { mute: true } } });
    try {
      const t0 = performance.now(); // real time, before the dispatch
      const task = await api(hub, 'POST', '/api/branches/sh-lujiazui/tasks', { type: 'greet', params: { zone: 'entrance' } });
      expect(task).toMatchObject({ state: 'dispatched', deviceId: 'robot-1' });
      await fleet.workers.get('robot-2')!.waitFor((m) => m.payload.taskId === task.id && m.payload.type === 'greet', { timeoutMs: 3000 });
      const realMs = performance.now() - t0;
      expect(realMs).toBeGreaterThanOrEqual(495);
      expect(realMs).toBeLessThan(1500);
      const stored = await eventually(async () => {
        const t = await api(hub, 'GET', `/api/tasks/${task.id}`);
        return t.history.length >= 4 && t;
      }, 3000, 'history');
      const [created, dispatched, givenBack] = stored.history;
      expect(givenBack.cause).toBe('robot-1 did not accept within 30 s');
      // 30 s of hub time between the dispatch and the timeout; the clock started at 09:00 Beijing time.
      expect(Date.parse(givenBack.at) - Date.parse(dispatched.at)).toBeGreaterThanOrEqual(30_000);
      expect(Date.parse(givenBack.at) - Date.parse(dispatched.at)).toBeLessThan(60_000);
      expect(created.at.startsWith('2026-11-23T01:')).toBe(true);
    } finally {
      await fleet.disconnect();
    }
  });

  it('a deadline survives kill -9: a robot expected back since an earlier start is still reported down', async () => {
    // deviceReturnSec 600 at scale 600: one real second.
    const file = demoWith(dir, 'deviceReturnSec: 600');
    const env = { HUB_CONFIG: file, HUB_DATA_DIR: dir, HUB_TIME_SCALE: '600' };
    const first = await startHubProcess(env);
    hubs.push(first);
    const robot = await mqtt.connectAsync(`mqtt://127.0.0.1:${first.mqttPort}`, { clientId: 'robot-1', username: 'robot-1', password: 'demo-robot-1', reconnectPeriod: 0 });
    // Retained presence goes out once the registry has stored the device online.
    const online = new Promise<void>((resolve) => robot.on('message', (_t, p) => JSON.parse(p.toString()).online && resolve()));
    await robot.subscribeAsync('branch/sh-lujiazui/presence/robot-1', { qos: 1 });
    await online;
    first.child.kill('SIGKILL');
    await first.exited();
    robot.end(true);

    // The second start stores "robot-1 is expected back" as a deadline, and dies before it is due.
    const second = await startHubProcess(env);
    hubs.push(second);
    second.child.kill('SIGKILL');
    await second.exited();

    // The registry now says robot-1 was offline when the hub stopped: only the stored deadline remembers it.
    const third = await startHubProcess(env);
    hubs.push(third);
    const alert = await eventually(
      async () => (await api(third, 'GET', '/api/branches/sh-lujiazui/alerts?state=open')).find((a: { type: string; subject: string }) => a.type === 'device-down' && a.subject === 'robot-1'),
      5000,
      'device-down for robot-1',
    );
    expect(alert.message).toBe('robot robot-1 did not come back after the hub restarted');
  });

  it('killed (-9) while a ticket waits, the hub still raises its long-wait alert on time, and killed again, still escalates it', async () => {
    // At 60×: longWaitMin 1 and alertEscalateMin 1 are one real second each.
    const file = demoWith(dir, 'longWaitMin: 1\n      alertEscalateMin: 1');
    const env = { HUB_CONFIG: file, HUB_DATA_DIR: dir, HUB_TIME_SCALE: '60' };
    const openLongWait = async (hub: HubProcess) =>
      ((await api(hub, 'GET', '/api/branches/sh-lujiazui/alerts?state=open')) as { type: string; level: string; raisedAt: string; escalatedAt: string | null }[]).find((a) => a.type === 'long-wait');

    const first = await startHubProcess(env);
    hubs.push(first);
    const qms = await mqtt.connectAsync(`mqtt://127.0.0.1:${first.mqttPort}`, { clientId: 'qms-1', username: 'qms-1', password: 'demo-qms-1', reconnectPeriod: 0 });
    const issuedAt = Date.parse(await clockNow(first));
    // The retained summary is published after the ticket is stored: then it is safe to kill.
    const stored = new Promise<void>((resolve) => qms.on('message', (_t, p) => JSON.parse(p.toString()).waiting?.card === 1 && resolve()));
    await qms.subscribeAsync('branch/sh-lujiazui/summary', { qos: 1 });
    await qms.publishAsync('branch/sh-lujiazui/devices/qms-1/queue', JSON.stringify({ event: 'issued', ticket: 'A001', service: 'card' }), { qos: 1 });
    await stored;
    // A scaled clock starts at HUB_CLOCK_START (else at real time, far behind): the restarted hub goes on from here.
    let resumeAt = await clockNow(first);
    first.child.kill('SIGKILL');
    await first.exited();
    qms.end(true);

    const second = await startHubProcess({ ...env, HUB_CLOCK_START: resumeAt });
    hubs.push(second);
    const upAt = Date.parse(await clockNow(second));
    const alert = await eventually(() => openLongWait(second), 5000, 'long-wait after kill -9');
    expect(alert.level).toBe('warning');
    // On time on the hub's clock: the stored deadline (issued + 1 min) fired when the new hub's clock reached it —
    // or, when a slow restart let it fall due while no hub ran, as soon as the new one was up.
    const due = issuedAt + 60_000;
    expect(Date.parse(alert.raisedAt)).toBeGreaterThanOrEqual(due);
    expect(Date.parse(alert.raisedAt) - Math.max(due, upAt)).toBeLessThan(5000);
    resumeAt = await clockNow(second);
    second.child.kill('SIGKILL');
    await second.exited();

    const third = await startHubProcess({ ...env, HUB_CLOCK_START: resumeAt });
    hubs.push(third);
    const escalated = await eventually(async () => {
      const a = await openLongWait(third);
      return a?.level === 'critical' && a;
    }, 5000, 'escalation after kill -9');
    expect(Date.parse(escalated.escalatedAt!) - Date.parse(alert.raisedAt)).toBeGreaterThanOrEqual(60_000 - 50);
  });
});
