import type { EntityManager, EntityTarget, ObjectLiteral, QueryBuilder, QueryDeepPartialEntity } from 'typeorm';
import type { Statement } from './sql-script.js';

/** Rows per statement, and branch ids per `IN` list: well inside SQLite's and PostgreSQL's bound-parameter limits. */
export const chunks = <T>(rows: T[], size = 200): T[][] => Array.from({ length: Math.ceil(rows.length / size) }, (_, i) => rows.slice(i * size, (i + 1) * size));

/** Bound parameters per statement: under SQLite's limit (32,766) and PostgreSQL's (65,535). */
const MAX_PARAMETERS = 30_000;

/**
 * As many rows per statement as the parameter limit allows. Under load each statement costs the hub an event-loop
 * round trip, so a group commit's length is its number of statements (BENCHMARKS.md, issue 12 part 5).
 */
export const rowChunks = <T extends object>(rows: T[]): T[][] => {
  const columns = rows.reduce((most, r) => Math.max(most, Object.keys(r).length), 1);
  return chunks(rows, Math.floor(MAX_PARAMETERS / columns));
};

/**
 * Start-up reads: `query` once per chunk of branch ids (not once per branch: a round trip each, one after
 * another on SQLite's one connection), its rows grouped by branch in the order the query returned them.
 */
export async function byBranch<T extends { branchId: string }>(ids: string[], query: (ids: string[]) => Promise<T[]>): Promise<Map<string, T[]>> {
  const out = new Map<string, T[]>();
  for (const part of chunks(ids, 500)) {
    for (const row of await query(part)) {
      const rows = out.get(row.branchId);
      if (rows) rows.push(row);
      else out.set(row.branchId, [row]);
    }
  }
  return out;
}

/** A query builder's statement, not run. */
export function asStatement(query: Pick<QueryBuilder<ObjectLiteral>, 'getQueryAndParameters'>): Statement {
  const [sql, params] = query.getQueryAndParameters();
  return { sql, params };
}

/**
 * Whole rows, many at once: one INSERT … ON CONFLICT (…) DO UPDATE per chunk, the columns given (or those of `update`)
 * updated. TypeORM's `save` reads each row first and `em.upsert` reads back what the database generated: a round trip
 * each on the hot path, and half the time of 10,000 rows at start-up.
 */
export function upserts<T extends ObjectLiteral>(em: EntityManager, target: EntityTarget<T>, rows: Partial<T>[], conflict: (keyof T & string)[], update?: (keyof T & string)[]): Statement[] {
  const overwrite = em.connection
    .getMetadata(target)
    .columns.filter((c) => !conflict.includes(c.propertyName as keyof T & string) && (!update || update.includes(c.propertyName as keyof T & string)) && rows.some((r) => r[c.propertyName] !== undefined))
    .map((c) => c.databaseName);
  return rowChunks(rows).map((part) => {
    const insert = em.createQueryBuilder().insert().into(target).values(part as QueryDeepPartialEntity<T>[]).updateEntity(false);
    return asStatement(overwrite.length ? insert.orUpdate(overwrite, conflict) : insert.orIgnore());
  });
}

/** `upserts`, run in `em`. */
export async function upsertAll<T extends ObjectLiteral>(em: EntityManager, target: EntityTarget<T>, rows: Partial<T>[], conflict: (keyof T & string)[], update?: (keyof T & string)[]): Promise<void> {
  for (const { sql, params } of upserts(em, target, rows, conflict, update)) await em.query(sql, params);
}
