import { Global, Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { ENTITIES } from './entities.js';

/** The database (SQLite by default, PostgreSQL by URL) and a repository per entity, for every module. */
@Global()
@Module({})
export class PersistenceModule {
  /** `dataSource` is already connected and migrated (see `openDatabase`). */
  static forRoot(dataSource: DataSource): DynamicModule {
    const features = TypeOrmModule.forFeature(ENTITIES);
    return {
      module: PersistenceModule,
      imports: [TypeOrmModule.forRootAsync({ useFactory: () => dataSource.options, dataSourceFactory: async () => dataSource }), features],
      exports: [features],
    };
  }
}
