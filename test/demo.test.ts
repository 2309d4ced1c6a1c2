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
 * says what happens in the branch, not what Nest loaded.
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

  it('shows arrivals, greetings, guides to the kiosks, promotions and alerts within a real minute, with a quiet log', async () => {
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
        const alerts = await get<unknown[]>('/api/branches/sh-lujiazui/alerts');
        const done = (type: string) => tasks.some((t) => t.type === type && t.state === 'completed');
        return done('greet') && tasks.some((t) => t.type === 'guide') && done('promote') && alerts.length > 0 && { tasks, alerts };
      },
      60_000 - (Date.now() - started),
      'a greeting, a guide, a promotion and an alert',
    );
    expect(seen.tasks.some((t) => t.origin === 'flow:diversion')).toBe(true);
    // Quiet: Nest's start-up lines are debug; what is logged is the branch's tasks and alerts.
    expect(out).not.toMatch(/InstanceLoader|RoutesResolver|RouterExplorer/);
    expect(out).toMatch(/\[TaskBook\] .*sh-lujiazui: greet task \w+ \w+ → completed/);
    expect(out).toMatch(/\[Alerts\] .*sh-lujiazui: \w+ [\w-]+ raised/);
    expect(out).not.toMatch(/→ (accepted|started)/);
  }, 90_000);
});
