import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { HubConfig } from './config.schema.js';

/** DI token of the one validated config object. */
export const HUB_CONFIG = Symbol('HUB_CONFIG');

@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: HubConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: HUB_CONFIG, useValue: config }], exports: [HUB_CONFIG] };
  }
}
