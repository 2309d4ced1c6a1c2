import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';
import { sqlLiteral, type Statement } from './sql-script.js';

/**
 * Statements for many rows at once, written from the entity's metadata — the SQL TypeORM's query builders write for the
 * same rows, without their cost: the builder re-copies every parameter it holds to name each new one (quadratic in a
 * statement's values), its top frames under ingest and at start-up (BENCHMARKS.md, issue 12 part 6). Values are
 * normalized by the driver as TypeORM does (booleans, JSON), then inlined as literals on SQLite (its statements run
 * as one script, `Store.writeAll`) or numbered parameters on PostgreSQL.
 */
class Writer {
  readonly params: unknown[] = [];
  readonly sqlite: boolean;

  constructor(readonly em: EntityManager) {
    this.sqlite = em.connection.options.type === 'sqlite';
  }

  value(column: ColumnMetadata, raw: unknown): string {
    if (raw === undefined) return this.sqlite ? ((this.em.connection.driver.normalizeDefault(column) as string | undefined) ?? 'NULL') : 'DEFAULT';
    return this.plain(this.em.connection.driver.preparePersistentValue(raw, column));
  }

  /** A value as the database takes it (a string, a number). */
  plain(value: unknown): string {
    if (this.sqlite) return sqlLiteral(value);
    this.params.push(value);
    return `$${this.params.length}`;
  }

  statement(sql: string): Statement {
    return { sql, params: this.params };
  }
}

const quote = (name: string) => `"${name}"`;

/** A statement of the caller's own, its values placed by `value` (inlined on SQLite, numbered on PostgreSQL). */
export function statementOf(em: EntityManager, write: (value: (v: unknown) => string) => string): Statement {
  const w = new Writer(em);
  return w.statement(write((v) => w.plain(v)));
}

/**
 * INSERT of `rows` (all given columns; a column a row leaves undefined takes its default), with `conflict` as
 * INSERT … ON CONFLICT (…) DO UPDATE of the other given columns (or only those of `update`); DO NOTHING if none.
 */
export function insertRows<T extends ObjectLiteral>(em: EntityManager, target: EntityTarget<T>, rows: Partial<T>[], conflict?: (keyof T & string)[], update?: (keyof T & string)[]): Statement {
  const meta = em.connection.getMetadata(target);
  const columns = meta.columns.filter((c) => c.isInsert && rows.some((r) => r[c.propertyName] !== undefined));
  const w = new Writer(em);
  const values = rows.map((r) => `(${columns.map((c) => w.value(c, r[c.propertyName])).join(', ')})`).join(', ');
  let sql = `INSERT INTO ${quote(meta.tablePath)} (${columns.map((c) => quote(c.databaseName)).join(', ')}) VALUES ${values}`;
  if (conflict?.length) {
    const keys = conflict.map((p) => meta.findColumnWithPropertyName(p)!);
    const overwrite = columns.filter((c) => !keys.includes(c) && (!update || update.includes(c.propertyName as keyof T & string)));
    const target = keys.map((c) => quote(c.databaseName)).join(', ');
    sql += overwrite.length
      ? ` ON CONFLICT (${target}) DO UPDATE SET ${overwrite.map((c) => `${quote(c.databaseName)} = EXCLUDED.${quote(c.databaseName)}`).join(', ')}`
      : ` ON CONFLICT (${target}) DO NOTHING`;
  }
  return w.statement(sql);
}

/** DELETE of the rows with these keys (all with the same columns): `IN (…)` for a one-column key, `OR`ed keys otherwise. */
export function deleteKeys<T extends ObjectLiteral>(em: EntityManager, target: EntityTarget<T>, keys: Partial<T>[]): Statement {
  const meta = em.connection.getMetadata(target);
  const columns = Object.keys(keys[0]).map((p) => meta.findColumnWithPropertyName(p)!);
  const w = new Writer(em);
  const where =
    columns.length === 1
      ? `${quote(columns[0].databaseName)} IN (${keys.map((k) => w.value(columns[0], k[columns[0].propertyName])).join(', ')})`
      : keys.map((k) => `(${columns.map((c) => `${quote(c.databaseName)} = ${w.value(c, k[c.propertyName])}`).join(' AND ')})`).join(' OR ');
  return w.statement(`DELETE FROM ${quote(meta.tablePath)} WHERE ${where}`);
}
