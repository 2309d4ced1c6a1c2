import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import { insertRows } from './row-statements.js';

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

/**
 * Whole rows, many at once: one INSERT … ON CONFLICT (…) DO UPDATE per chunk, the columns given (or those of `update`)
 * updated. TypeORM's `save` reads each row first and `em.upsert` reads back what the database generated: a round trip
 * each on the hot path, and half the time of 10,000 rows at start-up.
 */
export async function upsertAll<T extends ObjectLiteral>(em: EntityManager, target: EntityTarget<T>, rows: Partial<T>[], conflict: (keyof T & string)[], update?: (keyof T & string)[]): Promise<void> {
  for (const part of rowChunks(rows)) {
    const { sql, params } = insertRows(em, target, part, conflict, update);
    await em.query(sql, params);
  }
}
