import { io, type Socket } from 'socket.io-client';
import type { Fleet } from '../device-sims/fleet.js';
import { fleetOn } from './support/fleet.js';
import { eventually, startTestHub, twoBranches, type TestHub } from './support/hub.js';

describe('managers limited to some branches', () => {
  let hub: TestHub;
  let fleet: Fleet;
  let area: string;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    hub = await startTestHub(twoBranches());
    fleet = await fleetOn(hub, { only: ['robot-1', 'cam-1'] });
    area = (await hub.api('POST', '/api/auth/login', { username: 'area-2', password: 'area-pw' }, null)).body.token;
  });
  afterAll(async () => {
    sockets.forEach((s) => s.close());
    await fleet.disconnect();
    await hub.close();
  });
  const connect = (token: string) => {
    const s = io(`${hub.httpUrl}/dashboard`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
    sockets.push(s);
    return s;
  };

  it('lists only their branches, and answers 403 for the others on every REST call', async () => {
    expect((await hub.api('GET', '/api/branches', undefined, area)).body.map((b: { id: string }) => b.id)).toEqual(['br-2']);
    expect((await hub.api('GET', '/api/branches')).body.map((b: { id: string }) => b.id)).toEqual(['br-1', 'br-2']);
    const task = (await hub.api('POST', '/api/branches/br-1/tasks', { type: 'announce', params: { text: 'hi', lang: 'en' } })).body;
    const alert = (await hub.api('GET', '/api/branches/br-1/alerts')).body[0];
    const calls: [string, string, object?][] = [
      ['GET', '/api/branches/br-1/devices'],
      ['GET', '/api/branches/br-1/tasks'],
      ['GET', '/api/branches/br-1/alerts'],
      ['POST', '/api/branches/br-1/tasks', { type: 'announce', params: { text: 'x', lang: 'en' } }],
      ['GET', `/api/tasks/${task.id}`],
      ['POST', `/api/tasks/${task.id}/cancel`],
    ];
    if (alert) calls.push(['POST', `/api/alerts/${alert.id}/ack`]);
    for (const [method, path, body] of calls) {
      const res = await hub.api(method, path, body, area);
      expect([path, res.status]).toEqual([path, 403]);
      expect(res.body.message).toMatch(/not one of area-2's branches/);
    }
    // Nothing was done by the refused calls.
    expect((await hub.api('GET', `/api/tasks/${task.id}`)).body.state).not.toBe('cancelled');
    expect((await hub.api('GET', '/api/branches/br-1/tasks')).body).toHaveLength(1);
    expect((await hub.api('GET', '/api/branches/br-2/devices', undefined, area)).status).toBe(200);
    expect((await hub.api('GET', '/api/branches/br-9/devices', undefined, area)).status).toBe(404);
  });

  it('on the socket: a snapshot and live events of their branches only, and commands elsewhere refused', async () => {
    const s = connect(area);
    const snapshot = await new Promise<{ branches: { id: string }[] }>((r) => s.once('snapshot', r));
    expect(snapshot.branches.map((b) => b.id)).toEqual(['br-2']);
    const seen: { branchId: string }[] = [];
    s.on('device', (d) => seen.push(d));
    s.on('task', (t) => seen.push(t));
    const all = connect(await hub.token());
    const allSeen: { branchId: string }[] = [];
    all.on('task', (t) => allSeen.push(t));
    await new Promise((r) => all.once('snapshot', r));

    await hub.api('POST', '/api/branches/br-1/tasks', { type: 'greet', params: { zone: 'entrance' } });
    await fleet.workers.get('robot-1')!.report('busy');
    await hub.api('POST', '/api/branches/br-2/tasks', { type: 'greet', params: { zone: 'entrance' } });
    await eventually(() => allSeen.some((t) => t.branchId === 'br-2'), 3000, 'the br-2 task event');
    await eventually(() => seen.some((t) => t.branchId === 'br-2'), 3000, 'area-2 sees br-2');
    expect(allSeen.some((t) => t.branchId === 'br-1')).toBe(true);
    expect(seen.filter((e) => e.branchId !== 'br-2')).toEqual([]);

    const ask = (name: string, body: unknown) => s.timeout(3000).emitWithAck(name, body) as Promise<{ ok: boolean; error?: string }>;
    expect(await ask('dispatch', { branchId: 'br-1', type: 'greet', params: { zone: 'entrance' } })).toMatchObject({ ok: false, error: expect.stringMatching(/^forbidden/) });
    expect(await ask('pausePromotions', { branchId: 'br-1', minutes: 5 })).toMatchObject({ ok: false, error: expect.stringMatching(/^forbidden/) });
    const br1Task = (await hub.api('GET', '/api/branches/br-1/tasks')).body[0];
    expect(await ask('cancel', { taskId: br1Task.id })).toMatchObject({ ok: false, error: expect.stringMatching(/^forbidden/) });
    expect(await ask('pausePromotions', { branchId: 'br-2', minutes: 5 })).toMatchObject({ ok: true });
  });

  it('a socket that reconnects gets a fresh snapshot with everything still open', async () => {
    const first = connect(await hub.token());
    await new Promise((r) => first.once('snapshot', r));
    first.close();
    const created = (await hub.api('POST', '/api/branches/br-2/tasks', { type: 'announce', params: { text: 'while away', lang: 'en' } })).body;
    const again = connect(await hub.token());
    const snapshot = await new Promise<{ branches: { id: string; tasks: { id: string }[] }[] }>((r) => again.once('snapshot', r));
    expect(snapshot.branches.find((b) => b.id === 'br-2')!.tasks.map((t) => t.id)).toContain(created.id);
  });
});
