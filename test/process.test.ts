import mqtt from 'mqtt';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadConfig } from '../src/config/load-config.js';
import { connectFleet } from '../device-sims/fleet.js';
import { FAST } from './support/fleet.js';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { failedStart, startHubProcess } from '../device-sims/hub-process.js';

/** The hub as branch IT runs it: `npm start`'s command (dist/hub.mjs) with HUB_* env. */
describe('the hub process', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hub-proc-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const occupy = () =>
    new Promise<Server>((resolve) => {
      const s = createServer();
      s.listen(0, '0.0.0.0', () => resolve(s));
    });
  const portOf = (s: Server) => (s.address() as { port: number }).port;

  it('starts with the demo config, answers health, and stops on SIGTERM with exit 0 within 5 s, finishing the last turns without errors', async () => {
    const hub = await startHubProcess({ HUB_CONFIG: 'config/hub.yaml', HUB_DATA_DIR: dir });
    const health = await fetch(`http://127.0.0.1:${hub.httpPort}/api/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', mqtt: true, database: true });
    const robot = await mqtt.connectAsync(`mqtt://127.0.0.1:${hub.mqttPort}`, { clientId: 'robot-1', username: 'robot-1', password: 'demo-robot-1', reconnectPeriod: 0 });
    await robot.publishAsync('branch/sh-lujiazui/devices/robot-1/state', JSON.stringify({ status: 'idle', battery: 77 }), { qos: 1 });
    // A ticket just before the stop: its summary is still due, and goes out (or not) after the broker has closed.
    const qms = await mqtt.connectAsync(`mqtt://127.0.0.1:${hub.mqttPort}`, { clientId: 'qms-1', username: 'qms-1', password: 'demo-qms-1', reconnectPeriod: 0 });
    await qms.publishAsync('branch/sh-lujiazui/devices/qms-1/queue', JSON.stringify({ event: 'issued', ticket: 'A001', service: 'cash' }), { qos: 1 });
    const closed = new Promise<void>((r) => robot.once('close', () => r()));
    const t0 = Date.now();
    hub.child.kill('SIGTERM');
    expect(await hub.exited()).toEqual({ code: 0, signal: null });
    expect(Date.now() - t0).toBeLessThan(5000);
    await closed; // it stopped taking connections and closed the device's
    expect(hub.output()).not.toMatch(/ERROR/);
    robot.end(true);
    qms.end(true);
  });

  it('plays a scenario with the simulator CLI against the demo hub: every device connects, arrivals are greeted, a report is written', async () => {
    // Hub and simulators on one clock at 60×: the CLI's --scale is the hub's, and its devices sync to the hub's time.
    const hub = await startHubProcess({ HUB_CONFIG: 'config/hub.yaml', HUB_DATA_DIR: dir, HUB_TIME_SCALE: '60' });
    try {
      const base = `http://127.0.0.1:${hub.httpPort}`;
      const args = ['--scenario', 'peak-day', '--from', '10:00', '--to', '10:06', '--scale', '60', '--url', `mqtt://127.0.0.1:${hub.mqttPort}`, '--http', base, '--out', join(dir, 'reports'), '--quiet'];
      const sims = spawn(process.execPath, ['dist/device-sims/cli.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      sims.stdout!.on('data', (d) => (out += d));
      sims.stderr!.on('data', (d) => (out += d));
      const code = await new Promise((r) => sims.once('exit', r));
      expect({ code, out }).toMatchObject({ code: 0, out: expect.stringContaining('greeted by a robot ≤ 10 s') });
      const report = JSON.parse(readFileSync(join(dir, 'reports', 'peak-day.json'), 'utf8')) as { outcomes: { arrivals: number; coordinated: boolean }[] };
      expect(report.outcomes[0]).toMatchObject({ coordinated: true, arrivals: expect.any(Number) });
      expect(readFileSync(join(dir, 'reports', 'peak-day.svg'), 'utf8')).toMatch(/^<svg/);
      const { token } = (await (await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'lobby', password: 'lobby-demo' }) })).json()) as { token: string };
      const tasks = (await (await fetch(`${base}/api/branches/sh-lujiazui/tasks`, { headers: { authorization: `Bearer ${token}` } })).json()) as { type: string; origin: string }[];
      expect(tasks.filter((t) => t.type === 'greet' && t.origin === 'flow:greeting').length).toBeGreaterThan(0);
      const devices = (await (await fetch(`${base}/api/branches/sh-lujiazui/devices`, { headers: { authorization: `Bearer ${token}` } })).json()) as { id: string; lastSeen: string | null }[];
      expect(devices.filter((d) => d.lastSeen === null)).toEqual([]); // all ten came (and went with the day)
      expect(devices).toHaveLength(10);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      for (const kind of ['state', 'footfall', 'occupancy', 'track', 'queue', 'ack']) expect(metrics).toMatch(new RegExp(`hub_mqtt_messages_in_total\\{kind="${kind}"\\} [1-9]`));
    } finally {
      hub.child.kill('SIGTERM');
      await hub.exited();
    }
  });

  it('the simulator CLI refuses bad arguments with one line naming them, before touching any hub', async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number | null; err: string }>((resolve) => {
        const p = spawn(process.execPath, ['dist/device-sims/cli.js', ...args, '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        p.stderr!.on('data', (d) => (err += d));
        p.once('exit', (code) => resolve({ code, err }));
      });
    expect(await run(['--from', '9am'])).toEqual({ code: 1, err: 'device-sims: --from must be HH:MM, not "9am"\n' });
    expect(await run(['--from', '12:00', '--to', '11:00'])).toMatchObject({ code: 1, err: expect.stringContaining('--from before --to') });
    expect(await run(['--scale', 'fast'])).toMatchObject({ code: 1, err: expect.stringContaining('--scale must be a number > 0') });
    expect(await run(['--scenario', 'no-such-day'])).toMatchObject({ code: 1, err: expect.stringContaining('no-such-day.yaml') });
  });

  it('killed (SIGKILL) while a task waits for its ack, the restarted hub still times it out and re-dispatches', async () => {
    const file = join(dir, 'hub.yaml');
    writeFileSync(file, readFileSync('config/hub.yaml', 'utf8').replace('greetCooldownSec: 5', 'greetCooldownSec: 5\n      ackTimeoutSec: 2'));
    const config = loadConfig({ HUB_CONFIG: file });
    const env = { HUB_CONFIG: file, HUB_DATA_DIR: dir };
    const robots = { only: ['robot-1', 'robot-2'], profile: FAST, profiles: { 'robot-1': { mute: true } } };
    const first = await startHubProcess(env);
    const api = (port: number) => async (method: string, path: string, body?: object) => {
      const base = `http://127.0.0.1:${port}`;
      const { token } = await (await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'lobby', password: 'lobby-demo' }) })).json() as { token: string };
      const res = await fetch(base + path, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: body && JSON.stringify(body) });
      return res.json() as Promise<any>;
    };
    let fleet = await connectFleet(config, { url: `mqtt://127.0.0.1:${first.mqttPort}`, ...robots });
    const task = await api(first.httpPort)('POST', '/api/branches/sh-lujiazui/tasks', { type: 'greet', params: { zone: 'entrance' } });
    // When robot-1 got the command, on the fleet's clock as the re-dispatch is (not when this test's await resumed: on
    // a busy machine that came 120 ms later, and the re-dispatch looked early).
    const sentAt = (await fleet.workers.get('robot-1')!.waitFor((m) => m.payload.taskId === task.id)).at;
    first.child.kill('SIGKILL');
    await first.exited();
    await fleet.disconnect();

    const second = await startHubProcess({ ...env, HUB_MQTT_PORT: String(first.mqttPort) });
    try {
      fleet = await connectFleet(config, { url: `mqtt://127.0.0.1:${second.mqttPort}`, ...robots });
      const again = await fleet.workers.get('robot-2')!.waitFor((m) => m.payload.taskId === task.id && m.payload.type === 'greet', { timeoutMs: 8000 });
      expect(again.at - sentAt).toBeGreaterThanOrEqual(1900);
      const stored = await api(second.httpPort)('GET', `/api/tasks/${task.id}`);
      expect(stored.history.map((h: { cause: string }) => h.cause)).toContain('robot-1 did not accept within 2 s');
    } finally {
      await fleet.disconnect();
      second.child.kill('SIGTERM');
      await second.exited();
    }
  });

  it('ends with one clear line and exit 1 when the config does not validate, listing every bad key', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      [
        'managers: []',
        'branches:',
        '  - id: Bad_Id',
        '    name: x',
        '    zones: [{ id: entrance }]',
        '    devices: [{ id: robot-1, kind: robot, secret: s, zone: roof }]',
        '    rules: { ackTimeoutSec: -1, greetCooldown: 5 }',
      ].join('\n'),
    );
    const { code, stderr } = await failedStart({ HUB_CONFIG: file, HUB_DATA_DIR: dir });
    expect(code).toBe(1);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    for (const key of ['managers', 'branches.0.id', 'branches.0.devices.0.zone', 'branches.0.rules.ackTimeoutSec', 'greetCooldown']) {
      expect(lines[0]).toContain(key);
    }
  });

  it.each([
    ['a missing config file', () => ({ HUB_CONFIG: join(dir, 'nope.yaml') }), /cannot read/],
    ['broken YAML', () => (writeFileSync(join(dir, 'b.yaml'), 'managers: [\n'), { HUB_CONFIG: join(dir, 'b.yaml') }), /invalid YAML/],
    ['a port that is not a number', () => ({ HUB_MQTT_PORT: 'eighteen' }), /server\.mqttPort/],
    ['a data dir that cannot be written', () => (writeFileSync(join(dir, 'file'), ''), { HUB_DATA_DIR: join(dir, 'file', 'data') }), /data dir .* cannot be written/],
    ['an unsupported database URL', () => ({ HUB_DB_URL: 'mysql://localhost/x' }), /HUB_DB_URL: unsupported/],
    ['an unreachable database', () => ({ HUB_DB_URL: 'postgres://hub:secret@127.0.0.1:1/hub' }), /^branch-hub: database postgres:\/\/…@127\.0\.0\.1:1\/hub: connect ECONNREFUSED/],
    ['an unknown log level', () => ({ HUB_LOG_LEVEL: 'loud' }), /HUB_LOG_LEVEL/],
  ])('ends with one clear line and exit 1 for %s', async (_, env, message) => {
    const { code, stderr } = await failedStart({ HUB_CONFIG: 'config/hub.yaml', HUB_DATA_DIR: dir, ...env() });
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(message);
  });

  it.each([
    ['MQTT', 'HUB_MQTT_PORT', /MQTT port \d+ is already in use/],
    ['HTTP', 'HUB_HTTP_PORT', /HTTP port \d+ is already in use/],
  ])('ends with one clear line and exit 1 when the %s port is taken', async (_, variable, message) => {
    const taken = await occupy();
    try {
      const { code, stderr } = await failedStart({ HUB_CONFIG: 'config/hub.yaml', HUB_DATA_DIR: dir, [variable]: String(portOf(taken)) });
      expect(code).toBe(1);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toMatch(message);
    } finally {
      taken.close();
    }
  });
});
