import 'reflect-metadata';
import type { ConsoleLogger, INestApplication, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { existsSync, readFileSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import { dirname, join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { AppModule, clockFor } from './app.module.js';
import { BrokerService } from './broker/broker.service.js';
import type { Clock } from './clock/clock.js';
import type { HubConfig } from './config/config.schema.js';
import { StartupError } from './config/load-config.js';
import { HubLogger } from './observability/hub-logger.js';
import { packageRoot } from './package-root.js';
import { openDatabase } from './persistence/data-source.js';

export interface RunningHub {
  app: INestApplication;
  mqttPort: number;
  httpPort: number;
  /** With a certificate (contract section 1): MQTT over TLS here, and HTTP is HTTPS. */
  mqttsPort?: number;
  /** The hub's clock (contract section 9). */
  clock: Clock;
  close(): Promise<void>;
}

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];
/** What HUB_LOG_LEVEL may say: a level shows itself and everything more severe. */
export const LOG_LEVELS = [...LEVELS, 'silent'] as const;
export const isLogLevel = (s: string): s is (typeof LOG_LEVELS)[number] => (LOG_LEVELS as readonly string[]).includes(s);

/** Starts a hub: database and migrations, broker, MQTT on TCP, then HTTP (REST, Socket.IO, MQTT over WebSocket). */
export async function startHub(config: HubConfig, opts: { logLevel?: LogLevel | 'silent'; json?: boolean } = {}): Promise<RunningHub> {
  const level = opts.logLevel ?? 'log';
  const logger = new HubLogger({ json: opts.json, logLevels: level === 'silent' ? [] : LEVELS.slice(0, LEVELS.indexOf(level) + 1) });
  const tls = readTls(config.server);
  const dataSource = await openDatabase(config.server);
  const clock = clockFor(config.server);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, dataSource, clock), { logger, abortOnError: false, ...(tls ? { httpsOptions: tls } : {}) }).catch(async (e: unknown) => {
    await dataSource.destroy();
    throw e;
  });
  try {
    serveTabletPage(app, logger);
    await app.init();
    const broker = app.get(BrokerService);
    const mqttPort = await broker.listenTcp(config.server.mqttPort);
    const mqttsPort = tls ? await broker.listenTls(config.server.mqttsPort, tls) : undefined;
    // With TLS this is Node's HTTPS server (an http.Server underneath): wss://…/mqtt and Socket.IO come with it.
    broker.attachWebSocket(app.getHttpServer() as HttpServer);
    const httpPort = await listenHttp(app.getHttpServer() as HttpServer, config.server.httpPort);
    return { app, mqttPort, httpPort, mqttsPort, clock, close: () => app.close() };
  } catch (e) {
    await app.close().catch(() => undefined);
    throw e;
  }
}

/** The tablet page as `npm run build` leaves it (vite → dist/web), found from the package root whether the hub runs built or from source. */
export const WEB_ROOT = join(packageRoot(dirname(fileURLToPath(import.meta.url))), 'dist', 'web');

/**
 * The page at `/` (index.html) and its hashed assets, by Express's static middleware (built into
 * platform-express; registered before `init` so it sits ahead of Nest's 404 handler). It answers only for
 * files that exist in dist/web and passes everything else on, so `/api`, `/metrics`, `/socket.io` and
 * `/mqtt` are never shadowed.
 */
function serveTabletPage(app: NestExpressApplication, logger: ConsoleLogger): void {
  if (!existsSync(join(WEB_ROOT, 'index.html'))) {
    logger.warn(`no tablet page in ${WEB_ROOT} (npm run build makes it): / answers 404`, 'Hub');
    return;
  }
  app.useStaticAssets(WEB_ROOT, {
    index: 'index.html',
    redirect: false,
    // Vite's file names carry a content hash: cache them for good, but always revalidate the page itself.
    setHeaders: (res: { setHeader(name: string, value: string): void }, path: string) =>
      res.setHeader('Cache-Control', path.startsWith(join(WEB_ROOT, 'assets')) ? 'public, max-age=31536000, immutable' : 'no-cache'),
  });
}

/** The app is initialised; listening on the raw server keeps a taken port to our one line (Nest would log it too). */
/** The certificate and key, read once at start-up: a file that cannot be read or parsed stops it with one line. */
function readTls(server: HubConfig['server']): { cert: Buffer; key: Buffer } | undefined {
  if (!server.tlsCert || !server.tlsKey) return undefined;
  const read = (file: string, env: string) => {
    try {
      return readFileSync(file);
    } catch (e) {
      throw new StartupError(`${env} ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
  };
  const tls = { cert: read(server.tlsCert, 'HUB_TLS_CERT'), key: read(server.tlsKey, 'HUB_TLS_KEY') };
  try {
    createSecureContext(tls);
  } catch (e) {
    throw new StartupError(`HUB_TLS_CERT / HUB_TLS_KEY: not a usable certificate and key (${(e as Error).message})`);
  }
  return tls;
}

function listenHttp(server: HttpServer, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new StartupError(e.code === 'EADDRINUSE' ? `HTTP port ${port} is already in use (set HUB_HTTP_PORT)` : `HTTP port ${port}: ${e.message}`)),
    );
    server.listen(port, () => resolve((server.address() as { port: number }).port));
  });
}
