/**
 * Runs async work one at a time per key, in the order it was queued; different keys run concurrently.
 * The hub's answer to interleaving awaits: a device's messages, a branch's task decisions, one alert's
 * raise and clear. A failed piece of work rejects its own caller and does not stop the queue.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const run = (this.tails.get(key) ?? Promise.resolve()).then(work);
    const tail = run.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => this.tails.get(key) === tail && this.tails.delete(key));
    return run;
  }

  /** Resolves when everything queued so far has finished. */
  async drain(): Promise<void> {
    await Promise.all(this.tails.values());
  }
}
