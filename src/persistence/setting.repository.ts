import { Injectable } from '@nestjs/common';
import { SettingRecord } from './entities.js';
import { Store } from './store.js';

/** Hub-wide facts that must survive a restart (the token secret). */
@Injectable()
export class SettingRepository {
  constructor(private readonly store: Store) {}

  /** The stored value, or `fresh` stored now; when two hubs start at once, the first one written wins for both. */
  async getOrCreate(key: string, fresh: () => string): Promise<string> {
    const row = await this.store.manager.findOneBy(SettingRecord, { key });
    if (row) return row.value;
    await this.store.transaction((em) => em.createQueryBuilder().insert().into(SettingRecord).values({ key, value: fresh() }).orIgnore().execute());
    return (await this.store.manager.findOneByOrFail(SettingRecord, { key })).value;
  }
}
