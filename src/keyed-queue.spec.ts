import { KeyedQueue } from './keyed-queue.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('KeyedQueue', () => {
  it('runs work of one key in order, one at a time, and other keys alongside', async () => {
    const q = new KeyedQueue();
    const log: string[] = [];
    const job = (name: string, ms: number) => async () => {
      log.push(`${name}>`);
      await tick(ms);
      log.push(`<${name}`);
    };
    await Promise.all([q.run('a', job('a1', 20)), q.run('a', job('a2', 1)), q.run('b', job('b1', 5))]);
    expect(log).toEqual(['a1>', 'b1>', '<b1', '<a1', 'a2>', '<a2']);
  });

  it('keeps going after a failure, which only its caller sees', async () => {
    const q = new KeyedQueue();
    const failed = q.run('a', async () => {
      throw new Error('boom');
    });
    const next = q.run('a', async () => 'ok');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ok');
  });

  it('drains: resolves once queued work is done', async () => {
    const q = new KeyedQueue();
    let done = false;
    void q.run('a', async () => {
      await tick(10);
      done = true;
    });
    await q.drain();
    expect(done).toBe(true);
  });
});
