import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { SimulatedClock } from 'xstate';
import type { HubConfig } from '../config/config.schema.js';
import { openDatabase } from '../persistence/data-source.js';
import { FootfallHourRecord, UplinkEventRecord } from '../persistence/entities.js';
import { GroupCommit } from '../persistence/group-commit.js';
import { Store } from '../persistence/store.js';
import { Outbox } from './outbox.js';

/** The outbox on a real SQLite file, its events asked in group-commit units as alerts and tasks ask them. */
describe('Outbox in the group commit', () => {
  let dir: string;
  let db: DataSource;
  let commits: GroupCommit;
  let outbox: Outbox;
  let store: Store;
  /** Calls into the SQLite driver (each one a trip through the event loop). */
  let driverCalls: number;
  const clock = new SimulatedClock();
  clock.set(Date.parse('2026-12-02T10:00:00.000Z'));
  const events = async () => (await db.manager.find(UplinkEventRecord, { order: { branchId: 'ASC', seq: 'ASC' } })).map((e) => e.body);
  const raised = (alertId: string) => ({ kind: 'alert-raised' as const, alertId, type: 'crowding', subject: 'hall', level: 'warning', message: 'full' });

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'outbox-'));
    db = await openDatabase({ dataDir: dir });
    store = new Store(db);
    commits = new GroupCommit(store);
    outbox = new Outbox({ uplink: { maxBacklog: 3 } } as HubConfig, clock, store, commits);
    driverCalls = 0;
    const connection = (db.driver as unknown as { databaseConnection: Record<string, (...a: unknown[]) => unknown> }).databaseConnection;
    for (const method of ['run', 'all', 'exec']) {
      const call = connection[method].bind(connection);
      connection[method] = (...a: unknown[]) => (driverCalls++, call(...a));
    }
  });
  afterEach(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('numbers events in the order asked, as headquarters receives them, the commit one call while the backlog has room', async () => {
    // A branch's first event counts its backlog (a read: a transaction of its own).
    await Promise.all([commits.together(() => outbox.ask('b1', raised('a1'))), commits.together(() => outbox.ask('b2', raised('b1')))]);
    driverCalls = 0;
    await Promise.all([commits.together(() => outbox.ask('b1', raised('a2'))), commits.together(() => outbox.ask('b2', raised('b2')))]);
    expect(driverCalls).toBe(1);
    const ts = '2026-12-02T10:00:00.000Z';
    expect(await events()).toEqual([
      { seq: 1, ts, ...raised('a1') },
      { seq: 2, ts, ...raised('a2') },
      { seq: 1, ts, ...raised('b1') },
      { seq: 2, ts, ...raised('b2') },
    ]);
  });

  it('leaves no gap in seq when the unit of an event fails', async () => {
    await commits.together(() => outbox.ask('b1', raised('a1')));
    const failing = commits.together(() => {
      outbox.ask('b1', raised('lost'));
      void commits.put(FootfallHourRecord, ['branchId', 'hour'], { branchId: 'b1', hour: 'h', inCount: null } as never); // NOT NULL
    });
    const next = commits.together(() => outbox.ask('b1', raised('a2')));
    await expect(failing).rejects.toThrow(/NOT NULL/);
    await next;
    expect((await events()).map((e) => [(e as { seq: number }).seq, (e as { alertId: string }).alertId])).toEqual([
      [1, 'a1'],
      [2, 'a2'],
    ]);
  });

  it('past maxBacklog keeps the newest and a notice of how many went, counted again once room runs out', async () => {
    for (let i = 1; i <= 6; i++) await commits.together(() => outbox.ask('b1', raised(`a${i}`)));
    const waiting = (await events()) as { seq: number; kind: string; dropped?: number }[];
    expect(waiting.length).toBeLessThanOrEqual(3);
    const dropped = waiting.filter((e) => e.kind === 'backlog-dropped').reduce((n, e) => n + e.dropped!, 0);
    // Every seq given is either waiting or counted as dropped by a waiting notice.
    expect(waiting.length + dropped).toBe(waiting.at(-1)!.seq);
  });

  it('stays within maxBacklog when events are asked while earlier commits, and their counts, are under way', async () => {
    const asked: Promise<void>[] = [];
    for (let i = 1; i <= 40; i++) {
      asked.push(commits.together(() => outbox.ask('b1', raised(`a${i}`))));
      if (i % 3 === 0) await new Promise((r) => setImmediate(r)); // a few per commit, commits overlapping the asks
      // Read in turn, as the sender reads: not in the middle of a commit on the one connection.
      expect(await store.read((m) => m.countBy(UplinkEventRecord, { branchId: 'b1' }))).toBeLessThanOrEqual(3);
    }
    await Promise.all(asked);
    const waiting = (await events()) as { seq: number; kind: string; dropped?: number }[];
    expect(waiting.length).toBeLessThanOrEqual(3);
    const dropped = waiting.filter((e) => e.kind === 'backlog-dropped').reduce((n, e) => n + e.dropped!, 0);
    expect(waiting.length + dropped).toBe(waiting.at(-1)!.seq);
  });
});
