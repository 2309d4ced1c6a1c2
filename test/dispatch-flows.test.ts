import { io } from 'socket.io-client';
import type { Received } from '../device-sims/device.js';
import type { Fleet } from '../device-sims/fleet.js';
import type { HubConfig, Rules } from '../src/config/config.schema.js';
import { fleetOn, workTakes } from './support/fleet.js';
import { eventually, startTestHub, testConfig, type TestHub } from './support/hub.js';

type Task = { id: string; type: string; state: string; origin: string; deviceId: string | null; pinnedDeviceId: string | null; params: Record<string, any> };
const cmds = (type: string) => (m: Received) => m.topic.endsWith('/cmd') && m.payload.type === type;
const tasksOf = async (hub: TestHub, origin: string): Promise<Task[]> => ((await hub.api('GET', '/api/branches/br-1/tasks')).body as Task[]).filter((t) => t.origin === origin);

/** The flows that send work to devices: diversion to kiosks and promotion, through the real broker. */
describe('flows that dispatch work', () => {
  let hub: TestHub;
  let fleet: Fleet;
  afterEach(async () => {
    await fleet?.disconnect();
    await hub?.close();
  });

  const start = async (devices: string[], rules: Partial<Rules> = {}, timeScale = 1, edit: (c: HubConfig) => void = () => undefined) => {
    // Devices get one real second to accept, whatever the scale.
    const config = testConfig({ rules: { ackTimeoutSec: timeScale, ...rules }, server: { timeScale } });
    edit(config);
    hub = await startTestHub(config);
    fleet = await fleetOn(hub, { only: devices });
  };

  describe('diversion', () => {
    it('guides card customers to the idle kiosk and shows a self-service notice while the card wait is over the threshold', async () => {
      // card: 8 min per customer, one counter: 2 tickets make 16 min > 15.
      await start(['robot-1', 'robot-2', 'screen-2', 'kiosk-1', 'qms-1'], { divertWhenWaitMin: 15 });
      const qms = fleet.queues.get('qms-1')!;
      await qms.issue('card');
      await hub.settle();
      expect(await tasksOf(hub, 'flow:diversion')).toEqual([]);
      const second = await qms.issue('card');
      const notice = await fleet.workers.get('screen-2')!.waitFor(cmds('display'));
      expect(notice.payload.params).toMatchObject({ view: 'notice', content: { service: 'card', toZone: 'self-service' } });
      const guides = () => [...fleet.workers.values()].flatMap((w) => w.received.filter(cmds('guide')));
      await eventually(() => guides().length === 1, 3000, 'a guide to the kiosk');
      // The counter reaches the first ticket within 15 min (8 min each), not the second: its holder is guided.
      expect(guides()[0].payload.params).toEqual({ toZone: 'self-service', service: 'card', ticket: second });
      // Each new card ticket while diverting gets its own guide.
      const third = await qms.issue('card');
      await eventually(() => guides().some((g) => g.payload.params && (g.payload.params as { ticket?: string }).ticket === third), 3000, 'a guide for the new ticket');
      // With no robot available, a new ticket's guide waits for one rather than being dropped.
      for (const id of ['robot-1', 'robot-2']) fleet.workers.get(id)!.kill();
      await eventually(async () => ((await hub.api('GET', '/api/branches/br-1/devices')).body as { kind: string; online: boolean }[]).every((d) => d.kind !== 'robot' || !d.online), 3000, 'robots offline');
      const fourth = await qms.issue('card');
      await eventually(async () => (await tasksOf(hub, 'flow:diversion')).some((t) => t.type === 'guide' && t.params.ticket === fourth && t.state === 'created'), 3000, 'a waiting guide');
      // Cash is not kiosk business: never diverted.
      for (let i = 0; i < 4; i++) await qms.issue('cash');
      await hub.settle();
      expect(guides().every((g) => (g.payload.params as { service: string }).service === 'card')).toBe(true);
    });

    it('never diverts a ticket issued for an appointment: its customer is expected at the counters', async () => {
      await start(['robot-1', 'robot-2', 'screen-2', 'kiosk-1', 'qms-1'], { divertWhenWaitMin: 15 });
      const qms = fleet.queues.get('qms-1')!;
      await qms.issue('card');
      const booked = await qms.issue('card', 'APT-77');
      const third = await qms.issue('card');
      const guides = () => [...fleet.workers.values()].flatMap((w) => w.received.filter(cmds('guide')));
      await eventually(() => guides().some((g) => (g.payload.params as { ticket?: string }).ticket === third), 3000, 'a guide for the walk-in');
      await hub.settle();
      // The booked one would have been among the excess (issued second of three, over 15 min): not guided away.
      expect(guides().map((g) => (g.payload.params as { ticket?: string }).ticket)).not.toContain(booked);
    });

    it('does not divert when no kiosk is free, and stops when the wait falls back', async () => {
      await start(['robot-1', 'screen-2', 'qms-1'], { divertWhenWaitMin: 15 }); // kiosk-1 is not connected
      const qms = fleet.queues.get('qms-1')!;
      const tickets = [];
      for (let i = 0; i < 4; i++) tickets.push(await qms.issue('card'));
      await hub.settle();
      expect(await tasksOf(hub, 'flow:diversion')).toEqual([]);

      const kiosk = await fleetOn(hub, { only: ['kiosk-1'] }); // the kiosk comes online, idle: diversion starts
      try {
        await eventually(async () => (await tasksOf(hub, 'flow:diversion')).some((t) => t.type === 'guide'), 3000, 'diversion once a kiosk is free');
        // The robot and the screen finish their work: the next guide and notice find them free.
        const allDone = async () => (await tasksOf(hub, 'flow:diversion')).every((t) => t.state === 'completed');
        await eventually(allDone, 3000, 'diversion work done');
        for (const t of tickets.slice(0, 3)) await qms.call(t, 'card', '1'); // 1 waiting: 8 min
        await hub.settle();
        const before = (await tasksOf(hub, 'flow:diversion')).length;
        await qms.issue('card'); // 2 waiting again (16 min): a new diversion, with a new notice and guide
        await hub.settle();
        const after = await tasksOf(hub, 'flow:diversion');
        expect(after.length).toBe(before + 2);
        await eventually(allDone, 3000, 'second diversion work done');
        await kiosk.workers.get('kiosk-1')!.report('busy'); // no kiosk free any more: it stops
        await hub.settle();
        const stopped = (await tasksOf(hub, 'flow:diversion')).length;
        await qms.issue('card');
        await hub.settle();
        expect((await tasksOf(hub, 'flow:diversion')).length).toBe(stopped);
      } finally {
        await kiosk.disconnect();
      }
    });
  });

  describe('promotion', () => {
    const twoCampaigns = (c: HubConfig) => c.branches[0].campaigns.push({ id: 'card-plus', title: 'Card+', content: { text: 'card' }, services: ['card'] });

    it('promotes on waiting-area screens and idle robots once enough tickets wait, rotating campaigns after each cooldown', async () => {
      // 3 tickets wait; a 60 s cooldown is 1 s real at 60×.
      await start(['robot-1', 'robot-2', 'screen-2', 'qms-1'], { promoteWhenWaiting: 3, promoteCooldownSec: 60 }, 60, twoCampaigns);
      const qms = fleet.queues.get('qms-1')!;
      await qms.issue('cash');
      await qms.issue('card');
      await hub.settle();
      expect(await tasksOf(hub, 'flow:promotion')).toEqual([]);
      await qms.issue('cash');
      const first = await eventually(async () => {
        const t = await tasksOf(hub, 'flow:promotion');
        return t.length === 3 && t;
      }, 3000, 'first round');
      expect(first.map((t) => t.pinnedDeviceId).sort()).toEqual(['robot-1', 'robot-2', 'screen-2']); // each to its device
      expect(new Set(first.map((t) => t.params.campaign))).toEqual(new Set(['gold']));
      const second = await eventually(async () => {
        const t = await tasksOf(hub, 'flow:promotion');
        return t.length >= 6 && t;
      }, 5000, 'the round after the cooldown');
      expect(second.filter((t) => !first.some((f) => f.id === t.id)).map((t) => t.params.campaign)).toContain('card-plus');
    });

    it('runs its cooldown on the hub\'s clock: a queue system whose clock lags does not set off a burst of rounds', async () => {
      await start(['screen-2', 'qms-1'], { promoteWhenWaiting: 1, promoteCooldownSec: 600 });
      const qms = fleet.queues.get('qms-1')!;
      const lagging = new Date(hub.running.clock.now() - 3600_000).toISOString(); // an hour behind
      for (let i = 1; i <= 3; i++) await qms.publish('queue', { event: 'issued', ticket: `Z00${i}`, service: 'cash', ts: lagging });
      await eventually(async () => (await tasksOf(hub, 'flow:promotion')).length >= 1, 3000, 'a round');
      await hub.settle();
      expect(await tasksOf(hub, 'flow:promotion')).toHaveLength(1); // one round, then a 10 min cooldown
    });

    it('gives way to a greeting: the promoting robot is told to cancel and greets', async () => {
      await start(['robot-1', 'cam-1', 'qms-1'], { promoteWhenWaiting: 1, promoteCooldownSec: 600 });
      await fleet.workers.get('robot-1')!.report('idle');
      const robot = fleet.workers.get('robot-1')!;
      Object.assign(robot.profile.workMs, workTakes(60_000).workMs);
      await fleet.queues.get('qms-1')!.issue('cash');
      const promote = await robot.waitFor(cmds('promote'));
      await eventually(async () => (await tasksOf(hub, 'flow:promotion'))[0]?.state === 'started', 3000, 'promotion started');
      await fleet.sensors.get('cam-1')!.arrive();
      await robot.waitFor((m) => m.topic.endsWith('/cmd') && m.payload.type === 'cancel' && m.payload.taskId === promote.payload.taskId);
      await robot.waitFor(cmds('greet'));
      expect((await tasksOf(hub, 'flow:promotion'))[0].state).toBe('cancelled');
    });

    it('pauses for the minutes a manager asks, then promotes again; bad pause commands are answered', async () => {
      await start(['screen-2', 'qms-1'], { promoteWhenWaiting: 1, promoteCooldownSec: 1 }, 60);
      const socket = io(`${hub.httpUrl}/dashboard`, { auth: { token: await hub.token() }, transports: ['websocket'], reconnection: false });
      try {
        await new Promise((r) => socket.once('snapshot', r));
        const pause = (body: unknown) => socket.timeout(3000).emitWithAck('pausePromotions', body) as Promise<{ ok: boolean; until?: string; error?: string }>;
        expect(await pause({ branchId: 'br-1', minutes: -1 })).toMatchObject({ ok: false, error: expect.stringMatching(/minutes/) });
        expect(await pause({ branchId: 'br-9', minutes: 5 })).toMatchObject({ ok: false, error: expect.stringMatching(/no branch br-9/) });
        const answer = await pause({ branchId: 'br-1', minutes: 2 });
        expect(answer).toMatchObject({ ok: true });
        expect(Date.parse(answer.until!) - hub.running.clock.now()).toBeGreaterThan(100_000);
        await fleet.queues.get('qms-1')!.issue('cash');
        await new Promise<void>((r) => hub.running.clock.setTimeout(r, 90_000)); // 1.5 min into the 2 min pause
        await hub.settle();
        expect(await tasksOf(hub, 'flow:promotion')).toEqual([]);
        const promoted = await eventually(async () => (await tasksOf(hub, 'flow:promotion'))[0], 3000, 'a promotion after the pause');
        expect(promoted).toMatchObject({ type: 'promote', pinnedDeviceId: 'screen-2' });
      } finally {
        socket.close();
      }
    });
  });
});
