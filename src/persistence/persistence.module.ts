import { Global, Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { HubConfig } from '../config/config.schema.js';
import { dataSourceOptions } from './data-source.js';
import { ENTITIES } from './entities.js';

/** The database (SQLite by default, PostgreSQL by URL) and a repository per entity, for every module. */
@Global()
@Module({})
export class PersistenceModule {
  static forRoot(config: HubConfig): DynamicModule {
    const features = TypeOrmModule.forFeature(ENTITIES);
    return {
      module: PersistenceModule,
      // A failed connection must end start-up with its one line, not be retried for minutes.
      imports: [TypeOrmModule.forRoot({ ...dataSourceOptions(config.server), retryAttempts: 0 }), features],
      exports: [features],
    };
  }
}
