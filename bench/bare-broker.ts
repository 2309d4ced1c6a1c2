/**
 * A bare aedes broker, started the way src/broker/broker.service.ts starts the hub's: `Aedes.createBroker`
 * with the same `maxClientsIdLength` and a `preConnect` that sets TCP_NODELAY, on a `net` server created
 * with `noDelay: true`. No authentication, ACL or `published` hook: that is what the hub adds.
 * Run as a child (`fork`): tells its parent the port over IPC.
 */
import { Aedes } from 'aedes';
import { createServer, type Socket } from 'node:net';

const aedes = await Aedes.createBroker({
  maxClientsIdLength: 64,
  preConnect: (client, _packet, done) => {
    (client.conn as Partial<Socket>).setNoDelay?.(true);
    done(null, true);
  },
});
const server = createServer({ noDelay: true }, (socket) => aedes.handle(socket));
server.listen(Number(process.env.BARE_PORT ?? 0), () => process.send?.({ port: (server.address() as { port: number }).port }));

const stop = () => aedes.close(() => server.close(() => process.exit(0)));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.once('disconnect', stop);
