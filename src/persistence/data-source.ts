import { accessSync, constants, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sqlite3 from 'sqlite3';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { StartupError } from '../config/load-config.js';
import { ENTITIES } from './entities.js';
import { Initial1763800000000 } from './migrations/1763800000000-initial.js';
import { Foundations1763900000000 } from './migrations/1763900000000-foundations.js';
import { Flows1764000000000 } from './migrations/1764000000000-flows.js';
import { Analytics1765000000000 } from './migrations/1765000000000-analytics.js';
import { Uplink1765100000000 } from './migrations/1765100000000-uplink.js';

/**
 * TypeORM's SqliteDriver loads the driver with `sqlite3.verbose()`, which wraps every database call to capture
 * a stack and `util.inspect` its arguments — the top frame of the hub's profile under load (BENCHMARKS.md,
 * issue 12). The same module, whose `verbose()` leaves it as it is; TypeORM still names the failing query.
 */
const quietSqlite3 = Object.assign(Object.create(sqlite3) as typeof sqlite3, { verbose: () => sqlite3 });

const MIGRATIONS = [Initial1763800000000, Foundations1763900000000, Flows1764000000000, Analytics1765000000000, Uplink1765100000000];

/**
 * SQLite file `hub.sqlite` in the data dir by default; PostgreSQL (or any TypeORM URL driver) when a
 * URL is given. The schema comes from migrations, never `synchronize`, and they run at start-up.
 */
export function dataSourceOptions(server: { dataDir: string; dbUrl?: string }): DataSourceOptions {
  const common = { entities: ENTITIES, migrations: MIGRATIONS, migrationsRun: true, synchronize: false, logging: false } as const;
  if (server.dbUrl) {
    const type = server.dbUrl.split(':')[0];
    if (type !== 'postgres' && type !== 'postgresql') {
      throw new StartupError(`HUB_DB_URL: unsupported database "${type}" (use postgres://…)`);
    }
    return { ...common, type: 'postgres', url: server.dbUrl };
  }
  const dir = resolve(server.dataDir);
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new StartupError(`data dir ${dir} cannot be written (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  // WAL keeps readers (dashboard, REST) from blocking the writer that persists device traffic.
  return { ...common, type: 'sqlite', database: join(dir, 'hub.sqlite'), enableWAL: true, busyTimeout: 5000, driver: quietSqlite3 };
}

/** Connects and migrates before anything else starts, so an unreachable database is one clear start-up line. */
export async function openDatabase(server: { dataDir: string; dbUrl?: string }): Promise<DataSource> {
  const ds = new DataSource(dataSourceOptions(server));
  try {
    await ds.initialize();
    // WAL with synchronous=NORMAL: a commit survives the hub being killed (the WAL is written before the commit
    // returns); only a power cut may lose the last few. FULL would fsync every commit, on the hot path of every task step.
    if (ds.options.type === 'sqlite') await ds.query('PRAGMA synchronous = NORMAL');
    return ds;
  } catch (e) {
    const where = server.dbUrl ? server.dbUrl.replace(/\/\/[^@/]*@/, '//…@') : resolve(server.dataDir, 'hub.sqlite');
    throw new StartupError(`database ${where}: ${(e as Error).message.split('\n')[0]}`);
  }
}
