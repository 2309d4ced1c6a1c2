import { io, type Socket } from 'socket.io-client';
import type { Fleet } from '../device-sims/fleet.js';
import { AuthService, hashPassword } from '../src/dashboard/auth.service.js';
import { eventually, startTestHub, testConfig, type TestHub } from './support/hub.js';
import { fleetOn, taskReaches, workTakes } from './support/fleet.js';

type Answer = { ok: boolean; error?: string; task?: { id: string; state: string; deviceId: string | null }; alert?: { id: string; open: boolean } };

describe('lobby-manager API: REST and Socket.IO /dashboard', () => {
  let hub: TestHub;
  let fleet: Fleet;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    hub = await startTestHub();
    fleet = await fleetOn(hub, { only: ['robot-1', 'robot-2', 'screen-1', 'screen-2'], profiles: { 'robot-2': workTakes(60000) } });
  });
  afterEach(() => sockets.splice(0).forEach((s) => s.close()));
  afterAll(async () => {
    await fleet.disconnect();
    await hub.close();
  });

  const connect = (auth: object) => {
    const s = io(`${hub.httpUrl}/dashboard`, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
    sockets.push(s);
    return s;
  };
  const command = (s: Socket, name: string, body: unknown) => s.timeout(3000).emitWithAck(name, body) as Promise<Answer>;

  describe('REST', () => {
    it('logs in with the configured manager and refuses bad credentials with 401', async () => {
      expect((await hub.api('POST', '/api/auth/login', { username: 'lobby', password: 'lobby-test' }, null)).body.token).toEqual(expect.any(String));
      expect((await hub.api('POST', '/api/auth/login', { username: 'lobby', password: 'wrong' }, null)).status).toBe(401);
      expect((await hub.api('POST', '/api/auth/login', { username: 'nobody', password: 'lobby-test' }, null)).status).toBe(401);
      const malformed = await hub.api('POST', '/api/auth/login', { username: 'lobby' }, null);
      expect(malformed.status).toBe(400);
      expect(malformed.body.message).toMatch(/password/);
    });

    it('accepts managers configured with a scrypt or bcrypt passwordHash, and keeps tokens valid across a restart', async () => {
      const managers = [
        { username: 'scrypt-user', passwordHash: hashPassword('lobby-scrypt') },
        { username: 'bcrypt-user', passwordHash: '$2b$04$mcyernStauDPZeny8oOA8.2t3QPvMAVbGp9TffPhhl4hogax8rVom' }, // 'lobby-bcrypt'
      ];
      let other = await startTestHub({ ...testConfig(), managers });
      try {
        const login = (username: string, password: string) => other.api('POST', '/api/auth/login', { username, password }, null);
        expect((await login('scrypt-user', 'lobby-scrypt')).status).toBe(200);
        expect((await login('scrypt-user', 'lobby-bcrypt')).status).toBe(401);
        const { token } = (await login('bcrypt-user', 'lobby-bcrypt')).body;
        expect(token).toEqual(expect.any(String));
        other = await other.restart();
        expect((await other.api('GET', '/api/branches', undefined, token)).status).toBe(200);
      } finally {
        await other.close();
      }
    });

    it('treats an empty ?state= as no filter', async () => {
      expect((await hub.api('GET', '/api/branches/br-1/tasks?state=')).status).toBe(200);
      expect((await hub.api('GET', '/api/branches/br-1/alerts?state=')).status).toBe(200);
      expect((await hub.api('GET', '/api/branches/br-1/alerts?state=shut')).status).toBe(400);
    });

    it.each(['/api/branches', '/api/branches/br-1/devices', '/api/branches/br-1/tasks', '/api/branches/br-1/alerts'])('answers 401 on %s without a valid token', async (path) => {
      expect((await hub.api('GET', path, undefined, null)).status).toBe(401);
      expect((await hub.api('GET', path, undefined, 'forged.token')).status).toBe(401);
      expect((await hub.api('GET', path, undefined, `x.${'é'.repeat(43)}`)).status).toBe(401); // multi-byte signature
      expect((await hub.api('GET', path)).status).toBe(200);
    });

    it('lists branches and devices', async () => {
      expect((await hub.api('GET', '/api/branches')).body).toEqual([expect.objectContaining({ id: 'br-1', name: 'Test branch' })]);
      const devices = (await hub.api('GET', '/api/branches/br-1/devices')).body;
      expect(devices.map((d: { id: string }) => d.id)).toEqual(['robot-1', 'robot-2', 'screen-1', 'screen-2', 'kiosk-1', 'cam-1', 'qms-1']);
      expect(devices[0]).toMatchObject({ kind: 'robot', online: true, status: 'idle', capabilities: ['greet', 'guide', 'announce', 'promote'] });
      expect((await hub.api('GET', '/api/branches/nope/devices')).status).toBe(404);
    });

    it('dispatches by hand (pinned to a device), filters tasks by state, and cancels', async () => {
      const created = await hub.api('POST', '/api/branches/br-1/tasks', { type: 'announce', deviceId: 'robot-2', params: { text: '欢迎光临', lang: 'zh-CN' } });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ type: 'announce', state: 'dispatched', deviceId: 'robot-2', origin: 'manager:lobby', priority: 5 });
      const robot = fleet.workers.get('robot-2')!;
      await robot.waitFor((m) => m.payload.taskId === created.body.id && m.payload.type === 'announce');
      await taskReaches(hub, created.body.id, 'started');
      const started = (await hub.api('GET', '/api/branches/br-1/tasks?state=started')).body;
      expect(started.map((t: { id: string }) => t.id)).toContain(created.body.id);
      expect((await hub.api('GET', '/api/branches/br-1/tasks?state=completed')).body.map((t: { id: string }) => t.id)).not.toContain(created.body.id);

      const cancelled = await hub.api('POST', `/api/tasks/${created.body.id}/cancel`);
      expect(cancelled.status).toBe(200);
      expect(cancelled.body).toMatchObject({ state: 'cancelled' });
      await robot.waitFor((m) => m.payload.taskId === created.body.id && m.payload.type === 'cancel');
      expect((await hub.api('POST', `/api/tasks/${created.body.id}/cancel`)).status).toBe(409);
      expect((await hub.api('POST', '/api/tasks/unknown/cancel')).status).toBe(404);
      const history = (await hub.api('GET', `/api/tasks/${created.body.id}`)).body.history;
      expect(history.at(-1)).toMatchObject({ toState: 'cancelled', cause: 'cancelled by manager:lobby' });
    });

    it.each([
      [{ type: 'teleport', params: {} }, /^type: /],
      [{ type: 'greet', params: {} }, /^params\.zone: /],
      [{ type: 'greet', params: { zone: 'roof' } }, /params\.zone: .*roof/],
      [{ type: 'announce', params: { text: 'x', lang: 'en' }, deviceId: 'screen-9' }, /^deviceId: /],
      [{ type: 'greet', params: { zone: 'entrance' }, deviceId: 'screen-1' }, /deviceId: screen-1 \(screen\) cannot greet/],
      [{ type: 'greet', params: { zone: 'entrance' }, priority: 12 }, /^priority: /],
      ['{"type":', /JSON/],
    ])('refuses a malformed dispatch with 400 naming the field, creating nothing (%#)', async (body, message) => {
      const before = (await hub.api('GET', '/api/branches/br-1/tasks')).body.length;
      const res = await hub.api('POST', '/api/branches/br-1/tasks', body);
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(message);
      expect((await hub.api('GET', '/api/branches/br-1/tasks')).body.length).toBe(before);
    });
  });

  describe('Socket.IO', () => {
    it('refuses a connection without a valid token, forged ones included, and keeps serving', async () => {
      for (const auth of [{}, { token: 'nope' }, { token: `x.${'é'.repeat(43)}` }, { token: 42 }]) {
        const err = await new Promise<Error>((resolve) => connect(auth).on('connect_error', resolve));
        expect(err.message).toMatch(/unauthorized/);
      }
      expect((await hub.api('GET', '/api/health', undefined, null)).status).toBe(200);
    });

    it('refuses commands once the token has expired, and disconnects the socket', async () => {
      const auth = hub.running.app.get(AuthService);
      // Long enough for connect, snapshot and a first command on a loaded 2-core machine (300 ms was not, once).
      const token = auth.issue('lobby', 1500);
      const s = connect({ token });
      await new Promise((r) => s.once('snapshot', r));
      expect(await command(s, 'cancel', { taskId: 'x' })).toMatchObject({ ok: false, error: expect.stringMatching(/no task/) });
      await eventually(() => auth.verify(token) === null, 4000, 'token expired on the hub clock');
      const gone = new Promise((r) => s.once('disconnect', r));
      expect(await command(s, 'cancel', { taskId: 'x' })).toMatchObject({ ok: false, error: expect.stringMatching(/expired/) });
      await gone;
    });

    it('sends a snapshot on connect with devices, queues, occupancy, open tasks and open alerts', async () => {
      const s = connect({ token: await hub.token() });
      const snapshot = await new Promise<any>((resolve) => s.once('snapshot', resolve));
      expect(snapshot.branches).toHaveLength(1);
      const [b] = snapshot.branches;
      expect(b).toMatchObject({ id: 'br-1', name: 'Test branch', queues: { card: expect.any(Object), cash: expect.any(Object) }, occupancy: {} });
      expect(b.devices.find((d: { id: string }) => d.id === 'robot-1')).toMatchObject({ online: true, branchId: 'br-1' });
      expect(Array.isArray(b.tasks) && Array.isArray(b.alerts)).toBe(true);
    });

    it('always sends the snapshot before any live event, even while the branch is busy', async () => {
      const token = await hub.token();
      const screen = fleet.workers.get('screen-1')!;
      let busy = true;
      const traffic = (async () => {
        for (let i = 0; busy; i++) await screen.report(i % 2 ? 'idle' : 'busy');
      })();
      const firsts = await Promise.all(
        Array.from({ length: 20 }, () => {
          const s = connect({ token });
          return new Promise<string>((resolve) => s.onAny((event) => resolve(event)));
        }),
      );
      busy = false;
      await traffic;
      await screen.report('idle');
      expect(firsts).toEqual(Array(20).fill('snapshot'));
    });

    it('dispatches over the socket and streams the task from created to completed', async () => {
      const s = connect({ token: await hub.token() });
      await new Promise((r) => s.once('snapshot', r));
      const seen: { id: string; state: string; branchId: string }[] = [];
      s.on('task', (t) => seen.push(t));
      const answer = await command(s, 'dispatch', { branchId: 'br-1', type: 'display', params: { view: 'queue', content: { waiting: 3 } } });
      expect(answer).toMatchObject({ ok: true, task: { state: 'dispatched' } });
      const id = answer.task!.id;
      await eventually(() => seen.some((t) => t.id === id && t.state === 'completed'), 3000, 'completed event');
      expect(seen.filter((t) => t.id === id).map((t) => t.state)).toEqual(['created', 'dispatched', 'accepted', 'started', 'completed']);
      expect(seen.every((t) => t.branchId === 'br-1')).toBe(true);
    });

    it('streams device events carrying branchId', async () => {
      const s = connect({ token: await hub.token() });
      await new Promise((r) => s.once('snapshot', r));
      const event = new Promise<any>((resolve) => s.on('device', (d) => d.id === 'screen-1' && d.battery === null && d.status === 'busy' && resolve(d)));
      await fleet.workers.get('screen-1')!.report('busy');
      expect(await event).toMatchObject({ branchId: 'br-1', id: 'screen-1', status: 'busy' });
      await fleet.workers.get('screen-1')!.report('idle');
    });

    it('cancels and acknowledges alerts over the socket, answering errors through the ack', async () => {
      const s = connect({ token: await hub.token() });
      await new Promise((r) => s.once('snapshot', r));
      const dispatched = await command(s, 'dispatch', { branchId: 'br-1', type: 'guide', deviceId: 'robot-2', params: { toZone: 'self-service', service: 'card' } });
      expect(dispatched.ok).toBe(true);
      const cancelled = await command(s, 'cancel', { taskId: dispatched.task!.id });
      expect(cancelled).toMatchObject({ ok: true, task: { state: 'cancelled' } });
      expect(await command(s, 'cancel', { taskId: dispatched.task!.id })).toMatchObject({ ok: false, error: expect.stringMatching(/already cancelled/) });
      expect(await command(s, 'cancel', {})).toMatchObject({ ok: false, error: expect.stringMatching(/taskId/) });
      expect(await command(s, 'dispatch', { branchId: 'nope', type: 'greet', params: { zone: 'entrance' } })).toMatchObject({ ok: false, error: expect.stringMatching(/branchId/) });
      expect(await command(s, 'dispatch', { branchId: 'br-1', type: 'greet', params: {} })).toMatchObject({ ok: false, error: expect.stringMatching(/params\.zone/) });

      // A task that cannot be done raises a task-failed alert; the manager acknowledges it from the tablet.
      const alerts = new Promise<any>((resolve) => s.on('alert', (a) => a.type === 'task-failed' && resolve(a)));
      const doomed = await command(s, 'dispatch', { branchId: 'br-1', type: 'greet', deviceId: 'robot-1', params: { zone: 'entrance' } });
      await fleet.workers.get('robot-1')!.waitFor((m) => m.payload.taskId === doomed.task!.id);
      await fleet.workers.get('robot-1')!.ack(doomed.task!.id, 'failed', 'battery low');
      const alert = await alerts;
      expect(alert).toMatchObject({ branchId: 'br-1', open: true, message: expect.stringContaining('battery low') });
      expect(await command(s, 'ackAlert', { alertId: alert.id })).toMatchObject({ ok: true, alert: { id: alert.id, open: false } });
      expect(await command(s, 'ackAlert', { alertId: 'missing' })).toMatchObject({ ok: false, error: expect.stringMatching(/no alert/) });
    });
  });
});
