/**
 * The floor of dashboard fan-out: a bare Socket.IO server (the hub's socket.io version) with a `/dashboard`
 * namespace that, on `dispatch`, answers and broadcasts one `task` event to every socket. Run as a child
 * (`fork`): tells its parent the port over IPC.
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const http = createServer();
const io = new Server(http);
const nsp = io.of('/dashboard');
let n = 0;
nsp.on('connection', (socket) => {
  socket.emit('snapshot', { branches: [] });
  socket.on('dispatch', (body: Record<string, unknown>, answer: (a: unknown) => void) => {
    const task = { id: `t${++n}`, state: 'created', ...body };
    nsp.emit('task', task);
    answer({ ok: true, task });
  });
});
http.listen(0, () => process.send?.({ port: (http.address() as { port: number }).port }));
const stop = () => io.close(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('disconnect', stop);
