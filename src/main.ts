import { StartupError, loadConfig } from './config/load-config.js';
import { LOG_LEVELS, isLogLevel, startHub } from './hub.js';

/** `npm start`: one hub from HUB_CONFIG and env. Start-up problems end in one line and exit code 1. */
async function main(): Promise<void> {
  const config = loadConfig();
  const level = process.env.HUB_LOG_LEVEL || 'log';
  if (!isLogLevel(level)) throw new StartupError(`HUB_LOG_LEVEL: "${level}" is not one of ${LOG_LEVELS.join(', ')}`);
  const hub = await startHub(config, { logLevel: level, json: process.env.HUB_LOG_FORMAT === 'json' });
  // The first part is what device-sims/hub-process.ts reads the ports from.
  const tls = hub.mqttsPort === undefined ? '' : `; over TLS: MQTT mqtts://0.0.0.0:${hub.mqttsPort}, HTTPS https://localhost:${hub.httpPort}`;
  console.log(`branch-hub ready: MQTT tcp://0.0.0.0:${hub.mqttPort}, HTTP http://localhost:${hub.httpPort} (REST /api, Socket.IO /dashboard, MQTT over WebSocket /mqtt)${tls}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping`);
    // Real time, not the hub's clock: the contract's 5 s are the operator's.
    setTimeout(() => {
      console.error('shutdown took longer than 4.5 s; exiting');
      process.exit(1);
    }, 4500).unref();
    await hub.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((e: unknown) => {
  console.error(e instanceof StartupError ? `branch-hub: ${e.message}` : `branch-hub: start-up failed: ${(e as Error)?.stack ?? String(e)}`);
  process.exit(1);
});
