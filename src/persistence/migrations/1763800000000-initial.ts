import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { bool, int, key, str, text } from './columns.js';

/** The first schema. */
export class Initial1763800000000 implements MigrationInterface {
  name = 'Initial1763800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'device',
        columns: [
          key('id', 64), str('branchId', 32), str('kind', 32), str('zone', 64, true), str('status', 16, true),
          { name: 'battery', type: 'real', isNullable: true }, bool('online', false), str('since', 30, true), str('lastSeen', 30, true),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'task',
        columns: [
          key('id', 64), str('branchId', 32), str('type', 16), text('params'), int('priority'), str('state', 16), str('origin', 64),
          str('pinnedDeviceId', 64, true), str('deviceId', 64, true), int('attempts', 0), text('triedDevices'), str('zone', 64, true),
          str('createdAt', 30), str('updatedAt', 30), str('expiresAt', 30), str('ackDeadline', 30, true), text('decision', true),
        ],
        indices: [new TableIndex({ columnNames: ['branchId', 'state'] })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'task_transition',
        columns: [
          { name: 'seq', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          str('taskId', 64), str('fromState', 16, true), str('toState', 16), str('deviceId', 64, true), str('cause', 500), str('at', 30),
        ],
        indices: [new TableIndex({ columnNames: ['taskId'] })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'alert',
        columns: [
          key('id', 64), str('branchId', 32), str('type', 32), str('subject', 128), str('message', 500), text('data'), bool('open'),
          str('raisedAt', 30), str('clearedAt', 30, true), str('ackedAt', 30, true), str('ackedBy', 64, true),
        ],
        indices: [new TableIndex({ columnNames: ['branchId', 'open'] })],
      }),
    );
    await q.createTable(new Table({ name: 'hub_setting', columns: [key('key', 64), text('value')] }));
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['hub_setting', 'alert', 'task_transition', 'task', 'device']) await q.dropTable(t);
  }
}
