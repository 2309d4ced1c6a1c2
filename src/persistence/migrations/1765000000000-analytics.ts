import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { key, str, text } from './columns.js';

/** Branch analytics: raw tracks (kept `retentionDays`), aggregates per hour or 5 minutes, and the levels they integrate. */
export class Analytics1765000000000 implements MigrationInterface {
  name = 'Analytics1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'track_event',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          str('branchId', 32),
          str('track', 64),
          str('zone', 64),
          str('event', 8),
          str('at', 30),
        ],
        indices: [new TableIndex({ columnNames: ['branchId', 'at'] })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'analytics_bucket',
        columns: [key('branchId', 32), key('kind', 16), key('key', 140), key('at', 30), text('data')],
        indices: [new TableIndex({ columnNames: ['branchId', 'kind', 'at'] })],
      }),
    );
    await q.createTable(
      new Table({ name: 'analytics_level', columns: [key('branchId', 32), key('kind', 16), key('key', 64), { name: 'value', type: 'real' }, str('since', 30)] }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['analytics_level', 'analytics_bucket', 'track_event']) await q.dropTable(t);
  }
}
