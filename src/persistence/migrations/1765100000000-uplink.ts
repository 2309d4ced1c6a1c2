import { Table, TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { key, str, text } from './columns.js';

/** The uplink to headquarters: the outbox of events, each branch's last `seq`, and the appointments HQ books. */
export class Uplink1765100000000 implements MigrationInterface {
  name = 'Uplink1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(new Table({ name: 'uplink_event', columns: [key('branchId', 32), { name: 'seq', type: 'integer', isPrimary: true }, text('body'), str('createdAt', 30)] }));
    await q.createTable(new Table({ name: 'uplink_cursor', columns: [key('branchId', 32), { name: 'seq', type: 'integer' }] }));
    await q.createTable(
      new Table({
        name: 'appointment',
        columns: [
          key('branchId', 32),
          key('requestId', 64),
          str('ref', 64),
          str('service', 32),
          str('at', 30),
          str('segment', 32, true),
          str('note', 500, true),
          str('state', 16),
          str('reason', 200, true),
          str('ticket', 32, true),
          str('createdAt', 30),
          str('updatedAt', 30),
        ],
        indices: [new TableIndex({ columnNames: ['branchId', 'ref'] })],
      }),
    );
    await q.addColumn('queue_ticket', new TableColumn({ name: 'appointment', type: 'varchar', length: '64', isNullable: true }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('queue_ticket', 'appointment');
    for (const t of ['appointment', 'uplink_cursor', 'uplink_event']) await q.dropTable(t);
  }
}
