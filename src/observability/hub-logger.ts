import { ConsoleLogger } from '@nestjs/common';

/** Nest's own start-up contexts: which modules loaded, which routes mapped. Useful when debugging, chatter otherwise. */
const STARTUP_CONTEXTS = new Set(['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestApplication', 'NestMicroservice', 'WebSocketsController']);

/**
 * The hub's logger: at the default level a branch's log reads as what happened there, one line per task
 * outcome, alert and manager action; Nest's start-up lines are `debug` (HUB_LOG_LEVEL=debug shows them).
 */
export class HubLogger extends ConsoleLogger {
  override log(message: unknown, ...rest: unknown[]): void {
    const context = rest.at(-1) ?? this.context;
    if (typeof context === 'string' && STARTUP_CONTEXTS.has(context)) return super.debug(message, ...rest);
    super.log(message, ...rest);
  }
}
