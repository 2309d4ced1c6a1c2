import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource, EntityManager } from 'typeorm';
import { openDatabase } from './data-source.js';
import { FootfallHourRecord } from './entities.js';
import { Store } from './store.js';

/** Store on a real SQLite file: transactions asked while one commits share the next, each caller on its own. */
describe('Store on SQLite', () => {
  let dir: string;
  let db: DataSource;
  let store: Store;
  /** What happened, in order: `commit` when a database transaction committed, the callers' own marks otherwise. */
  let log: string[];
  const hour = (h: number) => `2026-12-01T${String(h).padStart(2, '0')}:00:00.000Z`;
  const insert = (em: EntityManager, h: number) => em.insert(FootfallHourRecord, { branchId: 'b1', hour: hour(h), inCount: h, outCount: 0 });
  const stored = async () => (await db.manager.find(FootfallHourRecord, { order: { hour: 'ASC' } })).map((r) => r.inCount);
  /** A transaction that stores hour `h` and answers `h`, marking in the log when its caller hears back. */
  const put = (h: number) =>
    store
      .transaction(async (em) => {
        await insert(em, h);
        return h;
      })
      .then((r) => (log.push(`done ${h}`), r));

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'store-'));
    db = await openDatabase({ dataDir: dir });
    log = [];
    const transaction = db.transaction.bind(db) as (work: (em: EntityManager) => Promise<unknown>) => Promise<unknown>;
    db.transaction = ((work: (em: EntityManager) => Promise<unknown>) => transaction(work).then((r) => (log.push('commit'), r))) as never;
    store = new Store(db);
  });
  afterEach(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('puts the transactions asked while one commits into the next one, and answers each caller with its own result after it', async () => {
    expect(await Promise.all([put(1), put(2), put(3), put(4)])).toEqual([1, 2, 3, 4]);
    // The first one found the connection free; the three behind it are one transaction.
    expect(log).toEqual(['commit', 'done 1', 'commit', 'done 2', 'done 3', 'done 4']);
    expect(await stored()).toEqual([1, 2, 3, 4]);
  });

  it('gives a failure to its own caller only: the others of its batch are stored, nothing of the failed one is', async () => {
    const bad = () =>
      store.transaction(async (em) => {
        await insert(em, 7);
        await em.insert(FootfallHourRecord, { branchId: 'b1', hour: hour(8), inCount: null } as never); // NOT NULL
      });
    const results = await Promise.allSettled([put(1), put(2), bad(), put(3)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(String((results[2] as PromiseRejectedResult).reason)).toMatch(/NOT NULL/);
    expect(await stored()).toEqual([1, 2, 3]);
    expect(await put(4)).toBe(4); // and the queue goes on
  });

  it('runs after-commit hooks once, after their transaction committed — never for a rolled-back try — and a failing hook stalls nothing', async () => {
    const withHook = (h: number, hook: () => void) =>
      store.transaction(async (em) => {
        await insert(em, h);
        store.afterCommit(em, hook);
      });
    const bad = () =>
      store.transaction(async (em) => {
        store.afterCommit(em, () => log.push('hook of the failed one'));
        await em.insert(FootfallHourRecord, { branchId: 'b1', hour: hour(8), inCount: null } as never);
      });
    await Promise.allSettled([
      put(1),
      withHook(2, () => log.push('hook 2')),
      withHook(3, () => {
        throw new Error('a hook with a bug');
      }),
      bad(),
    ]);
    expect(await put(4)).toBe(4);
    // The batch of 2, 3 and the failed one rolled back; 2 and 3 committed on their second try.
    expect(log).toEqual(['commit', 'done 1', 'commit', 'hook 2', 'commit', 'done 4']);
    expect(await stored()).toEqual([1, 2, 3, 4]);
  });

  it('runs a plain read alone without a transaction, and behind the writes asked before it', async () => {
    const write = put(5);
    const read = store.read((m) => m.count(FootfallHourRecord));
    expect(await read).toBe(1);
    await write;
    expect(log).toEqual(['commit', 'done 5']);
  });
});
