import sqlite3 from 'sqlite3';
import { scriptOf, sqlLiteral } from './sql-script.js';

/** Values inlined into a script must be stored exactly as binding them stores them: checked against SQLite itself. */
describe('SQL script literals', () => {
  let db: sqlite3.Database;
  const run = (sql: string, params: unknown[] = []) => new Promise<void>((ok, fail) => db.run(sql, params, (e) => (e ? fail(e) : ok())));
  const exec = (sql: string) => new Promise<void>((ok, fail) => db.exec(sql, (e) => (e ? fail(e) : ok())));
  const all = (sql: string) => new Promise<Record<string, unknown>[]>((ok, fail) => db.all(sql, (e, rows) => (e ? fail(e) : ok(rows as Record<string, unknown>[]))));

  beforeEach(async () => {
    db = new sqlite3.Database(':memory:');
    await run('CREATE TABLE t (k INTEGER, i INTEGER, r REAL, s TEXT, b BLOB, x)');
  });
  afterEach(() => new Promise<void>((ok) => db.close(() => ok())));

  it('stores every kind of value as a bound parameter would', async () => {
    const doubles = Array.from({ length: 2000 }, () => (Math.random() - 0.5) * 10 ** Math.floor(Math.random() * 40 - 20));
    const values: unknown[] = [
      ...doubles,
      0.1, 1 / 3, -0, 5e-324, Number.MAX_VALUE, 2 ** 53, -(2 ** 53) + 1, 1_764_000_000_000, 0, -1, NaN, Infinity, -Infinity,
      "it's", 'a "quoted" ? mark', 'nul\u0000inside', 'emoji 🏦 and 中文', '', true, false, null,
      Buffer.from([0, 1, 254, 255]),
    ];
    for (const [k, v] of values.entries()) {
      await run('INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)', [-1 - k, v, v, v, v, v]);
      const literal = sqlLiteral(v);
      await exec(scriptOf([{ sql: `INSERT INTO t VALUES (${k}, ${literal}, ${literal}, ${literal}, ${literal}, ${literal})`, params: [] }]));
    }
    const rows = await all('SELECT b.k AS k, a.i = b.i OR (a.i IS NULL AND b.i IS NULL) AS i, a.r IS b.r AS r, a.s IS b.s AS s, a.b IS b.b AS bl, a.x IS b.x AS x, typeof(a.x) = typeof(b.x) AS type FROM t a JOIN t b ON a.k = -1 - b.k WHERE b.k >= 0');
    const differ = rows.filter((r) => !(r.i && r.r && r.s && r.bl && r.x && r.type)).map((r) => ({ ...r, value: values[r.k as number] }));
    expect(rows).toHaveLength(values.length);
    expect(differ).toEqual([]);
  });

  it('refuses a script with bound values, or a value it cannot write', () => {
    expect(() => scriptOf([{ sql: 'SELECT 1', params: [] }, { sql: 'SELECT ?', params: [1] }])).toThrow(/a script takes no bound values \(1 given\): SELECT \?/);
    expect(() => sqlLiteral({ a: 1 })).toThrow(/cannot write \[object Object\]/);
    expect(() => sqlLiteral(new Date())).toThrow(/cannot write \[object Date\]/);
  });

  it('cannot be broken out of by a value', async () => {
    const evil = "x'); DROP TABLE t; --";
    await exec(scriptOf([{ sql: `INSERT INTO t (k, s) VALUES (1, ${sqlLiteral(evil)})`, params: [] }]));
    expect(await all('SELECT s FROM t')).toEqual([{ s: evil }]);
  });
});
