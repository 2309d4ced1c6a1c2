import { Table, TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';
import { key, str } from './columns.js';

/** Every flow of the branch: persisted flow actors, staff posts, hourly footfall, and alert levels for escalation. */
export class Flows1764000000000 implements MigrationInterface {
  name = 'Flows1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'flow_state',
        columns: [key('branchId', 32), key('actor', 128), str('machine', 32), { name: 'version', type: 'integer' }, { name: 'snapshot', type: 'text' }, str('updatedAt', 30)],
      }),
    );
    await q.createTable(new Table({ name: 'post_state', columns: [key('branchId', 32), key('post', 64), { name: 'staffed', type: 'boolean' }, str('since', 30)] }));
    await q.createTable(
      new Table({
        name: 'footfall_hour',
        columns: [key('branchId', 32), key('hour', 30), { name: 'inCount', type: 'integer', default: 0 }, { name: 'outCount', type: 'integer', default: 0 }],
      }),
    );
    await q.addColumn('alert', new TableColumn({ name: 'level', type: 'varchar', length: '16', default: "'warning'" }));
    await q.addColumn('alert', new TableColumn({ name: 'escalatedAt', type: 'varchar', length: '30', isNullable: true }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('alert', 'escalatedAt');
    await q.dropColumn('alert', 'level');
    for (const t of ['footfall_hour', 'post_state', 'flow_state']) await q.dropTable(t);
  }
}
