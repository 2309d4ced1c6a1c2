import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { Branches } from '../src/branch/branches.service.js';
import { Initial1763800000000 } from '../src/persistence/migrations/1763800000000-initial.js';
import { fleetOn } from './support/fleet.js';
import { eventually, startTestHub, testConfig } from './support/hub.js';

/** A database as the first release left it: queues as a JSON blob, deadlines on the task row, duplicate open alerts. */
async function firstReleaseDatabase(dir: string, now: number): Promise<void> {
  const db = new DataSource({ type: 'sqlite', database: join(dir, 'hub.sqlite'), migrations: [Initial1763800000000], migrationsRun: true });
  await db.initialize();
  const iso = (ms: number) => new Date(now + ms).toISOString();
  const queues = {
    card: { waiting: [{ ticket: 'A007', issuedAt: iso(-600_000) }], called: [['A005', now - 120_000]], openCounters: 1, samples: [7, 8, 9, 8, 7] },
    cash: { waiting: [], called: [], openCounters: null, samples: [] },
  };
  await db.query(`INSERT INTO hub_setting ("key", "value") VALUES ('queues:br-1', ?)`, [JSON.stringify(queues)]);
  await db.query(
    `INSERT INTO task (id, branchId, type, params, priority, state, origin, pinnedDeviceId, deviceId, attempts, triedDevices, zone, createdAt, updatedAt, expiresAt, ackDeadline, decision)
     VALUES ('t-old', 'br-1', 'greet', '{"zone":"entrance"}', 7, 'dispatched', 'flow:greeting', NULL, 'robot-1', 1, '[]', 'entrance', ?, ?, ?, ?, NULL)`,
    [iso(-2000), iso(-2000), iso(600_000), iso(-1000)],
  );
  for (const [id, raisedAt] of [['a-1', iso(-5000)], ['a-2', iso(-4000)]]) {
    await db.query(`INSERT INTO alert (id, branchId, type, subject, message, data, open, raisedAt) VALUES (?, 'br-1', 'device-down', 'robot-2', 'robot robot-2 went offline', '{}', 1, ?)`, [id, raisedAt]);
  }
  await db.destroy();
}

describe('migrating a first-release database', () => {
  it('keeps its queues, honours the deadlines its open tasks had, and keeps one open alert per condition', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hub-migrate-'));
    await firstReleaseDatabase(dir, Date.now());
    const hub = await startTestHub(testConfig(), dir);
    try {
      const snapshot = await hub.api('GET', '/api/branches/br-1/alerts?state=open');
      expect(snapshot.body.map((a: { id: string }) => a.id)).toEqual(['a-2']);
      // The ack deadline stored on the task passed while the hub was down: the task moves on at once.
      const fleet = await fleetOn(hub, { only: ['robot-2'] });
      try {
        const task = await eventually(async () => {
          const t = (await hub.api('GET', '/api/tasks/t-old')).body;
          return t.state === 'completed' && t;
        }, 5000, 't-old completed by robot-2');
        expect(task.deviceId).toBe('robot-2');
        expect(task.history.map((h: { cause: string }) => h.cause)).toContain('robot-1 did not accept within 1 s');
      } finally {
        await fleet.disconnect();
      }
      const queues = hub.running.app.get(Branches).get('br-1').model.queues();
      expect(queues.card).toMatchObject({ waiting: [{ ticket: 'A007' }], openCounters: 1, observedServices: 5, minutesPerCustomer: 8 });
      expect(queues.cash).toMatchObject({ waiting: [], openCounters: null, observedServices: 0 });
    } finally {
      await hub.close();
    }
  });
});
