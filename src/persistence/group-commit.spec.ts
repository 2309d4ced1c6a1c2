import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import type { DataSource } from 'typeorm';
import { openDatabase } from './data-source.js';
import { DeadlineRecord, FootfallHourRecord, TrackEventRecord } from './entities.js';
import { GroupCommit, LAZY_MS } from './group-commit.js';
import { Store } from './store.js';

/** The group commit on a real SQLite file: what many callers ask at once is one transaction, in order. */
describe('GroupCommit', () => {
  let dir: string;
  let db: DataSource;
  let commits: GroupCommit;
  /** Transactions the group commit asked of the store. */
  let transactions: number;
  /** Calls into the SQLite driver (each one a trip through the event loop). */
  let driverCalls: number;
  const hour = (h: number) => `2026-12-01T0${h}:00:00.000Z`;
  const rows = async () => (await db.manager.find(FootfallHourRecord, { order: { hour: 'ASC' } })).map((r) => [r.hour.slice(11, 13), r.inCount]);

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'group-commit-'));
    db = await openDatabase({ dataDir: dir });
    const store = new Store(db);
    transactions = 0;
    const writeAll = store.writeAll.bind(store);
    store.writeAll = (statements, then) => (transactions++, writeAll(statements, then));
    driverCalls = 0;
    const connection = (db.driver as unknown as { databaseConnection: Record<string, (...a: unknown[]) => unknown> }).databaseConnection;
    for (const method of ['run', 'all', 'exec']) {
      const call = connection[method].bind(connection);
      connection[method] = (...a: unknown[]) => (driverCalls++, call(...a));
    }
    commits = new GroupCommit(store);
  });
  afterEach(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores what was asked on one tick in one transaction, a key asked twice as last asked', async () => {
    const put = (h: number, n: number) => commits.put(FootfallHourRecord, ['branchId', 'hour'], { branchId: 'b1', hour: hour(h), inCount: n, outCount: 0 });
    await Promise.all([put(1, 1), put(2, 5), put(1, 3), put(3, 7)]);
    expect(transactions).toBe(1);
    expect(await rows()).toEqual([['01', 3], ['02', 5], ['03', 7]]);
  });

  it('sends a commit of rows of several tables and shapes to SQLite in one call', async () => {
    const put = (h: number) => commits.put(FootfallHourRecord, ['branchId', 'hour'], { branchId: 'b1', hour: hour(h), inCount: h, outCount: 0 });
    await Promise.all([put(1), put(2)]);
    driverCalls = 0;
    await Promise.all([
      put(3),
      commits.remove(FootfallHourRecord, { branchId: 'b1', hour: hour(1) }),
      commits.insert(TrackEventRecord, { branchId: 'b1', track: 't1', zone: 'hall', event: 'enter', at: hour(3) }),
      commits.put(DeadlineRecord, ['key'], { key: 'k1', branchId: 'b1', kind: 'flow', dueAt: hour(1), data: { says: "it's ?" } }),
    ]);
    expect(driverCalls).toBe(1);
    expect(await rows()).toEqual([['02', 2], ['03', 3]]);
    expect((await db.manager.findOneByOrFail(DeadlineRecord, { key: 'k1' })).data).toEqual({ says: "it's ?" });
  });

  it('appends rows without a key as asked, each one, in the same transaction as the puts beside them', async () => {
    const track = (zone: string) => commits.insert(TrackEventRecord, { branchId: 'b1', track: 't1', zone, event: 'enter', at: hour(1) });
    const put = commits.put(FootfallHourRecord, ['branchId', 'hour'], { branchId: 'b1', hour: hour(1), inCount: 1, outCount: 0 });
    await Promise.all([track('hall'), track('vip'), track('hall'), put]);
    expect(transactions).toBe(1);
    expect((await db.manager.find(TrackEventRecord, { order: { id: 'ASC' } })).map((t) => t.zone)).toEqual(['hall', 'vip', 'hall']);
    expect(await rows()).toEqual([['01', 1]]);
  });

  it('runs work in the transaction of the rows asked beside it, and removes many keys of one column at once', async () => {
    const put = (h: number) => commits.put(FootfallHourRecord, ['branchId', 'hour'], { branchId: 'b1', hour: hour(h), inCount: h, outCount: 0 });
    await Promise.all([put(1), put(2), put(3)]);
    const seen: number[] = [];
    await Promise.all([
      commits.remove(FootfallHourRecord, { branchId: 'b1', hour: hour(1) }),
      commits.put(DeadlineRecord, ['key'], { key: 'k1', branchId: 'b1', kind: 'flow', dueAt: hour(1), data: {} }),
      commits.put(DeadlineRecord, ['key'], { key: 'k2', branchId: 'b1', kind: 'flow', dueAt: hour(2), data: {} }),
      commits.run(async (em) => void seen.push(await em.count(FootfallHourRecord))),
    ]);
    expect(seen).toEqual([2]); // after the batch's rows, inside its transaction
    await Promise.all([commits.remove(DeadlineRecord, { key: 'k1' }), commits.remove(DeadlineRecord, { key: 'k2' })]);
    expect(await db.manager.count(DeadlineRecord)).toBe(0);
    expect(transactions).toBe(3);
  });

  it('removes rows of a key of several columns asked together, those and no others', async () => {
    const put = (b: string, h: number) => commits.put(FootfallHourRecord, ['branchId', 'hour'], { branchId: b, hour: hour(h), inCount: h, outCount: 0 });
    await Promise.all([put('b1', 1), put('b1', 2), put('b2', 1), put('b2', 3)]);
    await Promise.all([commits.remove(FootfallHourRecord, { branchId: 'b1', hour: hour(2) }), commits.remove(FootfallHourRecord, { branchId: 'b2', hour: hour(1) })]);
    const left = (await db.manager.find(FootfallHourRecord, { order: { branchId: 'ASC', hour: 'ASC' } })).map((r) => `${r.branchId} ${r.hour.slice(11, 13)}`);
    expect(left).toEqual(['b1 01', 'b2 03']);
  });

  it('stores a unit whole or not at all, and a failing unit fails only its own caller', async () => {
    const put = (h: number) => commits.put(FootfallHourRecord, ['branchId', 'hour'], { branchId: 'b1', hour: hour(h), inCount: h, outCount: 0 });
    const failing = commits.together(() => {
      void put(7);
      void commits.run(() => Promise.reject(new Error('outbox full')));
    });
    const badRow = commits.together(() => {
      void put(8);
      void commits.put(FootfallHourRecord, ['branchId', 'hour'], { branchId: 'b1', hour: hour(9), inCount: null } as never); // NOT NULL
    });
    const others = [put(1), commits.together(() => [put(2), put(3)])];
    await expect(failing).rejects.toThrow('outbox full');
    await expect(badRow).rejects.toThrow(/NOT NULL/);
    await Promise.all(others);
    expect(await rows()).toEqual([['01', 1], ['02', 2], ['03', 3]]);
    expect(transactions).toBe(1 + 4); // the failed commit of all four units, then each unit alone
  });

  it('keeps order across commits: a put, a remove and a put again of one key end as the last one', async () => {
    const key = { branchId: 'b1', hour: hour(4) };
    const first = commits.put(FootfallHourRecord, ['branchId', 'hour'], { ...key, inCount: 1, outCount: 0 });
    await new Promise((r) => setImmediate(r)); // the first commit is under way: what follows waits for the next
    const removed = commits.remove(FootfallHourRecord, key);
    await Promise.all([first, removed]);
    expect(await rows()).toEqual([]);
    await commits.put(FootfallHourRecord, ['branchId', 'hour'], { ...key, inCount: 9, outCount: 0 });
    expect(await rows()).toEqual([['04', 9]]);
    expect(transactions).toBe(3);
  });

  it('rejects the callers of a failed commit, and the next commit goes on', async () => {
    const bad = commits.put(FootfallHourRecord, ['branchId', 'hour'], { branchId: 'b1', hour: hour(5), inCount: null, outCount: 0 } as never); // NOT NULL
    await expect(bad).rejects.toThrow();
    await commits.put(FootfallHourRecord, ['branchId', 'hour'], { branchId: 'b1', hour: hour(6), inCount: 2, outCount: 0 });
    expect(await rows()).toEqual([['06', 2]]);
    await commits.flushed();
    // Committed, not left inside the failed commit's transaction: another connection sees it.
    const other = new sqlite3.Database(join(dir, 'hub.sqlite'), sqlite3.OPEN_READONLY);
    const seen = await new Promise((ok, fail) => other.all('SELECT hour FROM footfall_hour', (e, r) => (e ? fail(e) : ok(r))));
    await new Promise((ok) => other.close(ok));
    expect(seen).toEqual([{ hour: hour(6) }]);
  });

  it('keeps rows nobody waits for until a commit someone waits for takes them along, or LAZY_MS passed', async () => {
    const later = (h: number) => commits.later(() => void commits.put(FootfallHourRecord, ['branchId', 'hour'], { branchId: 'b1', hour: hour(h), inCount: h, outCount: 0 }));
    const asked = performance.now();
    const lazy = [later(1)];
    await new Promise((r) => setTimeout(r, 2)); // a stream of signals, a few ms apart: each one waits for company
    lazy.push(later(2));
    await Promise.all(lazy);
    expect(performance.now() - asked).toBeGreaterThanOrEqual(LAZY_MS - 1);
    expect(transactions).toBe(1);

    const waiting = later(3);
    const urgent = commits.put(FootfallHourRecord, ['branchId', 'hour'], { branchId: 'b1', hour: hour(4), inCount: 4, outCount: 0 });
    const start = performance.now();
    await Promise.all([waiting, urgent]);
    expect(performance.now() - start).toBeLessThan(LAZY_MS);
    expect(transactions).toBe(2);
    expect(await rows()).toEqual([['01', 1], ['02', 2], ['03', 3], ['04', 4]]);

    const last = later(5);
    const flushing = performance.now();
    await commits.flushed(); // shutdown does not wait for company
    await last;
    expect(performance.now() - flushing).toBeLessThan(LAZY_MS);
    expect(transactions).toBe(3);
  });
});
