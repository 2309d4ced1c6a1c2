import pg from 'pg';
import { WorkerSim } from '../device-sims/worker.js';
import { AlertsService } from '../src/alerts/alerts.service.js';
import { DeviceRepository } from '../src/devices/device.repository.js';
import { DevicesService } from '../src/devices/devices.service.js';
import { Branches } from '../src/branch/branches.service.js';
import { FlowStateRepository } from '../src/flows/flow-state.repository.js';
import { DeadlineRepository } from '../src/schedule/deadline.repository.js';
import { QueueRepository } from '../src/signals/queue.repository.js';
import { SAMPLE_WINDOW } from '../src/signals/wait-estimate.js';
import { ServiceTimeRecord } from '../src/persistence/entities.js';
import { Store } from '../src/persistence/store.js';
import type { HubConfig } from '../src/config/config.schema.js';
import { Outbox } from '../src/uplink/outbox.js';
import type { Task, TaskTransition } from '../src/contracts/views.js';
import { TaskRepository } from '../src/tasks/task.repository.js';
import { eventually, startTestHub, testConfig, twoBranches, type TestHub } from './support/hub.js';

const PG = 'postgres://postgres@127.0.0.1:5432';
/** PostgreSQL runs on this machine (and in CI here); elsewhere these tests say so and are skipped. */
const probe = new pg.Client({ connectionString: `${PG}/test`, connectionTimeoutMillis: 1000 });
const pgReachable = await probe.connect().then(
  () => probe.end().then(() => true),
  () => false,
);
if (!pgReachable) console.warn(`PostgreSQL not reachable at ${PG}/test: its persistence tests are skipped`);

async function registryRoundTrip(hub: TestHub): Promise<void> {
  const robot = await new WorkerSim({ branchId: 'br-1', id: 'robot-2', secret: 's-robot-2', kind: 'robot', zone: 'waiting' }).connect({ url: hub.mqttUrl });
  await robot.publish('state', { status: 'charging', zone: 'counters', battery: 41 });
  const device = async (h: TestHub) => (await h.api('GET', '/api/branches/br-1/devices')).body.find((d: { id: string }) => d.id === 'robot-2');
  await eventually(async () => (await device(hub)).battery === 41, 3000, 'state stored');
  const lastSeen = (await device(hub)).lastSeen;
  await robot.disconnect();
  await eventually(async () => !(await device(hub)).online, 3000, 'offline');
  const offlineSince = (await device(hub)).since;
  // A cancel owed to a device is stored apart from its state: start-up, which stores every device it finds changed
  // (robot-1 as if the hub had died while it was connected), leaves it.
  const devices = hub.running.app.get(DevicesService);
  await devices.oweCancel('robot-1', 'task-x');
  await hub.running.app.get(DeviceRepository).save({ ...devices.get('robot-1')!, online: true }, true);

  const again = await hub.restart();
  try {
    expect((await again.running.app.get(DeviceRepository).all()).find((r) => r.id === 'robot-1')).toMatchObject({ online: false, owedCancels: ['task-x'] });
    expect(again.running.app.get(DevicesService).connectedBeforeStart).toEqual(new Set(['robot-1']));
    expect(await device(again)).toMatchObject({
      id: 'robot-2',
      kind: 'robot',
      homeZone: 'waiting',
      zone: 'counters',
      status: 'charging',
      battery: 41,
      online: false,
      since: offlineSince,
      lastSeen,
      capabilities: ['greet', 'guide', 'announce', 'promote'],
    });
  } finally {
    await again.close();
  }
}

/** Start-up reads every branch's rows at once and stores what branches write as they are taken over together: each branch gets its own. */
async function takeOverRoundTrip(hub: TestHub): Promise<void> {
  await hub.running.app.get(QueueRepository).save({ branchId: 'br-2', service: 'card', ticket: { ticket: 'B7', state: 'waiting', issuedAt: new Date().toISOString(), calledAt: null, appointment: null } });
  const task = (await hub.api('POST', '/api/branches/br-1/tasks', { type: 'announce', params: { text: 'hi', lang: 'en' } })).body;
  // A task of br-2 once dispatched to robot-1-b: who got work last survives the restart (fairness), in its branch.
  const at = new Date().toISOString();
  const done: Task = { ...task, id: 'done-in-br-2', branchId: 'br-2', state: 'completed', deviceId: 'robot-1-b' };
  const dispatched: TaskTransition = { taskId: done.id, fromState: 'created', toState: 'dispatched', deviceId: 'robot-1-b', cause: 'test', at };
  await hub.running.app.get(TaskRepository).save([{ task: done, transitions: [dispatched], deadlines: { set: [], clear: [] }, effects: [] }]);
  const again = await hub.restart();
  try {
    const [br1, br2] = ['br-1', 'br-2'].map((b) => again.running.app.get(Branches).get(b));
    expect(br1.model.services.get('card')!.waiting.map((w) => w.ticket)).not.toContain('B7');
    expect(br2.model.services.get('card')!.waiting.map((w) => w.ticket)).toEqual(['B7']);
    expect(br1.tasks.openTasks().map((t) => t.id)).toContain(task.id);
    expect(br2.tasks.openTasks()).toEqual([]);
    const last = await again.running.app.get(TaskRepository).lastDispatchedByBranch(['br-1', 'br-2']);
    expect(last.get('br-2')).toEqual(new Map([['robot-1-b', Date.parse(at)]]));
    expect(last.get('br-1')!.has('robot-1-b')).toBe(false);
    // B7 was stored without its long-wait start: it got one at the take-over, in its own branch, carrying its input.
    const flows = await again.running.app.get(FlowStateRepository).byBranch(['br-1', 'br-2']);
    expect([...flows.values()].flat().map((f) => f.actor)).not.toContain('long-wait:card:B7'); // the actor starts when due
    const keys = ['flow:br-2:long-wait:card:B7:start', 'analytics:br-1:retention', 'analytics:br-2:retention'];
    const found = await again.running.app.get(DeadlineRepository).findMany([...keys, 'flow:br-1:long-wait:card:B7:start']);
    expect(found.map((d) => d.key).sort()).toEqual([...keys].sort());
    expect(found.find((d) => d.key === keys[0])!.data).toMatchObject({ machine: 'long-wait', event: { type: 'DUE' }, input: { service: 'card', ticket: 'B7' } });
  } finally {
    await again.close();
  }
}

/** Start-up reads every branch's uplink backlog at once: what asking branch by branch says, branches without one included. */
async function backlogsAtOnce(config: HubConfig): Promise<void> {
  const hub = await startTestHub({ ...twoBranches(config), uplink: { url: 'mqtt://127.0.0.1:9', clientId: 'hub-away', kpiIntervalSec: 3600, maxBacklog: 100_000 } });
  try {
    for (const [branchId, n] of [['br-1', 1], ['br-2', 3]] as const) {
      for (let i = 0; i < n; i++) await hub.running.app.get(AlertsService).raise({ branchId, type: 'task-failed', subject: `t-${i}`, message: 'failed', data: {} });
    }
    const outbox = hub.running.app.get(Outbox);
    const ids = ['br-1', 'br-2', 'br-3'];
    const each = new Map(await Promise.all(ids.map(async (b) => [b, await outbox.backlog(b)] as const)));
    expect(each.get('br-2')).toEqual({ size: 3, oldestAt: expect.any(String) });
    expect(await outbox.backlogs(ids)).toEqual(each);
  } finally {
    await hub.close();
  }
}

/** Each service keeps its newest SAMPLE_WINDOW called→served durations, in order, and only its own. */
async function serviceTimesRoundTrip(hub: TestHub): Promise<void> {
  const queues = hub.running.app.get(QueueRepository);
  const sample = (service: string, minutes: number) => queues.save({ branchId: 'br-1', service, sample: { minutes, at: new Date().toISOString() } });
  for (let i = 1; i <= SAMPLE_WINDOW + 5; i++) await sample('card', i + 0.25);
  for (let i = 1; i <= 3; i++) await sample('cash', i);
  const { samples } = (await queues.loadByBranch(['br-1'])).get('br-1')!;
  expect(samples.get('card')).toEqual(Array.from({ length: SAMPLE_WINDOW }, (_, i) => i + 6.25));
  expect(samples.get('cash')).toEqual([1, 2, 3]);
  const stored = await hub.running.app.get(Store).manager.countBy(ServiceTimeRecord, { branchId: 'br-1', service: 'card' });
  expect(stored).toBe(SAMPLE_WINDOW);
  await hub.close();
}

describe('persistence', () => {
  it('keeps the device registry across a restart (SQLite file in the data dir)', async () => {
    await registryRoundTrip(await startTestHub());
  });

  it('keeps the newest service times of each service, no more', async () => {
    await serviceTimesRoundTrip(await startTestHub());
  });

  it('takes each branch over with its own rows', async () => {
    await takeOverRoundTrip(await startTestHub(twoBranches()));
    await backlogsAtOnce(testConfig());
  });

  (pgReachable ? describe : describe.skip)('on PostgreSQL (HUB_DB_URL)', () => {
    const db = `hub_test_${process.pid}_${Date.now()}`;
    const admin = () => new pg.Client({ connectionString: `${PG}/test` });

    beforeAll(async () => {
      const c = admin();
      await c.connect();
      await c.query(`CREATE DATABASE ${db}`);
      await c.end();
    });
    afterAll(async () => {
      const c = admin();
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      await c.end();
    });

    it('runs the migrations and keeps the registry across a restart', async () => {
      const hub = await startTestHub(testConfig({ server: { dbUrl: `${PG}/${db}` } }));
      const health = await hub.api('GET', '/api/health', undefined, null);
      expect(health.body).toMatchObject({ status: 'ok', databaseType: 'postgres' });
      await registryRoundTrip(hub);
      await takeOverRoundTrip(await startTestHub(twoBranches(testConfig({ server: { dbUrl: `${PG}/${db}` } }))));
      await backlogsAtOnce(testConfig({ server: { dbUrl: `${PG}/${db}` } }));
      await serviceTimesRoundTrip(await startTestHub(testConfig({ server: { dbUrl: `${PG}/${db}` } })));
      const c = new pg.Client({ connectionString: `${PG}/${db}` });
      await c.connect();
      const { rows } = await c.query(`SELECT "battery", "status" FROM device WHERE id = 'robot-2'`);
      await c.end();
      expect(rows).toEqual([{ battery: 41, status: 'charging' }]);
    });

    it('keeps an alert whose message is longer than its column (a device failure reason of 500 characters)', async () => {
      const hub = await startTestHub(testConfig({ server: { dbUrl: `${PG}/${db}` } }));
      try {
        const alert = await hub.running.app.get(AlertsService).raise({ branchId: 'br-1', type: 'task-failed', subject: 't-long', message: `greet task failed on robot-1: ${'x'.repeat(500)}`, data: {} });
        expect(alert.message).toHaveLength(500);
        expect((await hub.api('GET', '/api/branches/br-1/alerts?state=open')).body).toContainEqual(expect.objectContaining({ subject: 't-long' }));
      } finally {
        await hub.close();
      }
    });
  });
});
