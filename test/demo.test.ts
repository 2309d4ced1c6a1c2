import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { eventually } from './support/hub.js';

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer();
    s.listen(0, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

/**
 * The README's run command (`npm run demo` = build, then scripts/demo.mjs): a newcomer who opens the
 * dashboard sees arrivals, greetings, diversions, promotions and alerts within a minute, and the log
 * says what happens in the branch, not what Nest loaded. Headquarters, played by the demo on its own
 * broker, sees the branch online, its KPIs and every event, and a customer it booked arrives.
 */
describe('the demo', () => {
  let demo: ChildProcess;
  let out = '';
  afterAll(async () => {
    if (demo.exitCode === null) {
      demo.kill('SIGINT');
      await new Promise((r) => demo.once('exit', r));
    }
  });

  it('shows arrivals, greetings, guides to the kiosks, promotions and alerts within a real minute, with a quiet log; HQ hears the branch and a booked customer arrive', async () => {
    const [mqtt, http] = [await freePort(), await freePort()];
    demo = spawn(process.execPath, ['scripts/demo.mjs'], { env: { ...process.env, HUB_MQTT_PORT: String(mqtt), HUB_HTTP_PORT: String(http) }, stdio: ['ignore', 'pipe', 'pipe'] });
    demo.stdout!.on('data', (d) => (out += d));
    demo.stderr!.on('data', (d) => (out += d));
    const started = Date.now();
    const base = `http://127.0.0.1:${http}`;
    await eventually(() => out.includes('branch-hub ready'), 15_000, 'the hub ready');
    const { token } = (await (await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'lobby', password: 'lobby-demo' }) })).json()) as { token: string };
    const get = async <T>(path: string): Promise<T> => (await fetch(base + path, { headers: { authorization: `Bearer ${token}` } })).json() as Promise<T>;
    const seen = await eventually(
      async () => {
        const tasks = await get<{ type: string; origin: string; state: string }[]>('/api/branches/sh-lujiazui/tasks');
        // The branch's own alerts: headquarters' appointment-due comes early whatever the branch does.
        const alerts = (await get<{ type: string }[]>('/api/branches/sh-lujiazui/alerts')).filter((a) => a.type !== 'appointment-due');
        const done = (type: string) => tasks.some((t) => t.type === type && t.state === 'completed');
        return done('greet') && tasks.some((t) => t.type === 'guide') && done('promote') && alerts.length > 0 && { tasks, alerts };
      },
      60_000 - (Date.now() - started),
      'a greeting, a guide, a promotion and an alert',
    );
    expect(seen.tasks.some((t) => t.origin === 'flow:diversion')).toBe(true);
    // Quiet: Nest's start-up lines are debug; what is logged is the branch's tasks and alerts (and the demo's [HQ] lines).
    expect(out).not.toMatch(/InstanceLoader|RoutesResolver|RouterExplorer/);
    expect(out).toMatch(/\[TaskBook\] .*sh-lujiazui: greet task \w+ \w+ → completed/);
    expect(out).toMatch(/\[Alerts\] .*sh-lujiazui: \w+ (?!appointment-due)[\w-]+ raised/);
    expect(out).not.toMatch(/→ (accepted|started)/);

    // Headquarters (contract section 8): the branch online, KPIs, events 1…n with no gaps, and the online ↔
    // offline loop of an appointment: booked at HQ, accepted by the hub, its customer's ticket carrying the ref.
    const hq = (line: string) => new RegExp(`^\\[HQ\\] \\d\\d:\\d\\d sh-lujiazui: ${line}`, 'm');
    await eventually(() => hq('appointment APT-20261230-\\d{3} \\(\\w+ at \\d\\d:\\d\\d\\) arrived$').test(out), 120_000 - (Date.now() - started), 'HQ to hear that a booked customer arrived');
    expect(out).toMatch(hq('online$'));
    expect(out).toMatch(/^\[HQ\] booked at sh-lujiazui: (\d{3} \w+ \d\d:\d\d( \(will not come\))?(, |$)){6}/m);
    expect(out).toMatch(hq('appointment APT-20261230-001 \\(\\w+ at \\d\\d:\\d\\d\\) accepted$'));
    const kpis = [...out.matchAll(/^\[HQ\] \d\d:\d\d sh-lujiazui: busyness (\d\.\d\d), \d+ waiting, \d+\/\d+ devices online, \d+ open alerts?; events 1–(\d+) received, no gaps$/gm)];
    expect(kpis.length).toBeGreaterThan(1);
    expect(Number(kpis.at(-1)![2])).toBeGreaterThan(6); // at least the six bookings' answers
    expect(out).not.toMatch(/MISSING|out of order/);
    // The hub's own view agrees: the appointment arrived with the ticket the simulated queue system issued.
    const appointments = await get<{ ref: string; state: string; ticket: string | null }[]>('/api/branches/sh-lujiazui/appointments');
    expect(appointments).toHaveLength(6);
    expect(appointments.some((a) => ['arrived', 'served'].includes(a.state) && /^[A-Z]\d{3}$/.test(a.ticket ?? ''))).toBe(true);
  }, 150_000);
});
