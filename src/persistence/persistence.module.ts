import { Global, Module, type DynamicModule } from '@nestjs/common';
import { DataSource } from 'typeorm';

/**
 * The database (SQLite by default, PostgreSQL by URL) for every module, as TypeORM's `DataSource`, already connected
 * and migrated (see `openDatabase`). Nothing injects TypeORM repositories: writes go through `Store`.
 */
@Global()
@Module({})
export class PersistenceModule {
  static forRoot(dataSource: DataSource): DynamicModule {
    const provider = { provide: DataSource, useValue: dataSource };
    return { module: PersistenceModule, providers: [provider], exports: [provider] };
  }
}
