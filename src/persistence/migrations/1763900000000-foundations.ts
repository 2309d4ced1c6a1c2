import { Table, TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { key, str } from './columns.js';

interface OldQueues {
  [service: string]: { waiting: { ticket: string; issuedAt: string }[]; called: [string, number][]; openCounters: number | null; samples: number[] };
}

/**
 * Durable deadlines for every flow, queue state in its own tables (it was a JSON blob in hub_setting),
 * one open alert per condition enforced by the database, and tasks owed a cancel per device.
 * Existing data moves over: queue blobs become rows, open tasks get their deadlines, duplicate open alerts are closed.
 */
export class Foundations1763900000000 implements MigrationInterface {
  name = 'Foundations1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(new Table({ name: 'deadline', columns: [key('key', 128), str('branchId', 32), str('kind', 32), str('dueAt', 30), { name: 'data', type: 'text' }] }));
    await q.createTable(
      new Table({
        name: 'queue_ticket',
        columns: [key('branchId', 32), key('service', 32), key('ticket', 32), str('state', 16), str('issuedAt', 30), str('calledAt', 30, true)],
      }),
    );
    await q.createTable(new Table({ name: 'queue_service', columns: [key('branchId', 32), key('service', 32), { name: 'openCounters', type: 'integer', isNullable: true }] }));
    await q.createTable(
      new Table({
        name: 'service_time',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          str('branchId', 32), str('service', 32), { name: 'minutes', type: 'real' }, str('at', 30),
        ],
        indices: [new TableIndex({ columnNames: ['branchId', 'service'] })],
      }),
    );
    await q.addColumn('device', new TableColumn({ name: 'owedCancels', type: 'text', isNullable: true }));
    await this.moveQueues(q);
    await this.taskDeadlines(q);
    await this.closeDuplicateAlerts(q);
    await q.createIndex('alert', new TableIndex({ name: 'alert_open_condition', columnNames: ['branchId', 'type', 'subject'], isUnique: true, where: '"open" = TRUE' }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('alert', 'alert_open_condition');
    await q.dropColumn('device', 'owedCancels');
    for (const t of ['service_time', 'queue_service', 'queue_ticket', 'deadline']) await q.dropTable(t);
  }

  private async moveQueues(q: QueryRunner): Promise<void> {
    const rows: { key: string; value: string }[] = await q.query(`SELECT "key", "value" FROM "hub_setting" WHERE "key" LIKE 'queues:%'`);
    for (const row of rows) {
      const branchId = row.key.slice('queues:'.length);
      const stored = JSON.parse(row.value) as OldQueues;
      for (const [service, s] of Object.entries(stored)) {
        const calledAt = new Map(s.called);
        for (const w of s.waiting) await this.insert(q, 'queue_ticket', { branchId, service, ticket: w.ticket, state: 'waiting', issuedAt: w.issuedAt, calledAt: null });
        for (const [ticket, at] of calledAt) {
          const iso = new Date(at).toISOString();
          await this.insert(q, 'queue_ticket', { branchId, service, ticket, state: 'called', issuedAt: iso, calledAt: iso });
        }
        await this.insert(q, 'queue_service', { branchId, service, openCounters: s.openCounters });
        for (const minutes of s.samples) await this.insert(q, 'service_time', { branchId, service, minutes, at: new Date(0).toISOString() });
      }
    }
    await q.query(`DELETE FROM "hub_setting" WHERE "key" LIKE 'queues:%'`);
  }

  /** Open tasks had their ack deadline on the row and expiry armed from `expiresAt`: both become deadline rows. */
  private async taskDeadlines(q: QueryRunner): Promise<void> {
    const open: { id: string; branchId: string; expiresAt: string; ackDeadline: string | null }[] = await q.query(
      `SELECT "id", "branchId", "expiresAt", "ackDeadline" FROM "task" WHERE "state" IN ('created', 'dispatched', 'accepted', 'started')`,
    );
    for (const t of open) {
      await this.insert(q, 'deadline', { key: `task:${t.id}:expiry`, branchId: t.branchId, kind: 'task-expiry', dueAt: t.expiresAt, data: JSON.stringify({ taskId: t.id }) });
      if (t.ackDeadline) await this.insert(q, 'deadline', { key: `task:${t.id}:ack`, branchId: t.branchId, kind: 'task-ack', dueAt: t.ackDeadline, data: JSON.stringify({ taskId: t.id }) });
    }
  }

  /** The old in-process guard could lose a race: keep the newest open alert of each condition. */
  private async closeDuplicateAlerts(q: QueryRunner): Promise<void> {
    const open: { id: string; branchId: string; type: string; subject: string; raisedAt: string }[] = await q.query(
      `SELECT "id", "branchId", "type", "subject", "raisedAt" FROM "alert" WHERE "open" = TRUE ORDER BY "raisedAt" DESC`,
    );
    const seen = new Set<string>();
    for (const a of open) {
      const condition = `${a.branchId}/${a.type}/${a.subject}`;
      if (seen.has(condition)) {
        const [query, parameters] = q.connection.driver.escapeQueryWithParameters(`UPDATE "alert" SET "open" = FALSE, "clearedAt" = :at WHERE "id" = :id`, { at: a.raisedAt, id: a.id }, {});
        await q.query(query, parameters);
      }
      seen.add(condition);
    }
  }

  /** Plain SQL with named parameters in each driver's own style: no entity metadata (it will change after this migration). */
  private insert(q: QueryRunner, table: string, values: Record<string, unknown>): Promise<unknown> {
    const columns = Object.keys(values);
    const sql = `INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map((c) => `:${c}`).join(', ')})`;
    const [query, parameters] = q.connection.driver.escapeQueryWithParameters(sql, values, {});
    return q.query(query, parameters);
  }
}
