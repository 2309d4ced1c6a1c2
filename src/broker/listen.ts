import type { Server as NetServer } from 'node:net';
import { StartupError } from '../config/load-config.js';

/** Listens on `port`; a port taken or refused is a start-up error naming the env var that moves it. */
export function listen(server: NetServer, what: string, envVar: string, port: number, host?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new StartupError(e.code === 'EADDRINUSE' ? `${what} port ${port} is already in use (set ${envVar})` : `${what} port ${port}: ${e.message}`)),
    );
    server.listen(port, host, () => resolve((server.address() as { port: number }).port));
  });
}
