import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The group-committed writes a device message left behind while it was handled: the broker releases the
 * device's next message once this one's turn has run, and sends this one's PUBACK once they are stored (in
 * order). Outside a device message (REST, deadlines) there is no store and the writer waits itself.
 */
export const pendingWrites = new AsyncLocalStorage<Promise<unknown>[]>();
