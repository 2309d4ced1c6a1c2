interface Job {
  work: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

/**
 * Runs async work one at a time per key, in the order it was queued; different keys run concurrently.
 * The hub's answer to interleaving awaits: a device's messages, a branch's task decisions, one alert's
 * raise and clear. A failed piece of work rejects its own caller and does not stop the queue.
 * Each busy key has one loop taking its jobs in turn: a job costs its caller's promise and nothing more (a chain of
 * `then`s cost three promises and as many microtask hops per job, on every device message; BENCHMARKS.md, part 11).
 */
export class KeyedQueue {
  /** The keys with work queued or running: their jobs not yet started, and the loop running them. */
  private readonly busy = new Map<string, { jobs: Job[]; done: Promise<void> }>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const job = { work, resolve: resolve as (value: unknown) => void, reject };
      const queued = this.busy.get(key);
      if (queued) return void queued.jobs.push(job);
      const jobs = [job];
      // Started in a microtask, as a `then` would: the caller goes on before its work does.
      this.busy.set(key, { jobs, done: Promise.resolve().then(() => this.loop(key, jobs)) });
    });
  }

  /** Resolves when everything queued so far has finished. */
  async drain(): Promise<void> {
    await Promise.all([...this.busy.values()].map((b) => b.done));
  }

  private async loop(key: string, jobs: Job[]): Promise<void> {
    for (let job = jobs.shift(); job; job = jobs.shift()) {
      try {
        job.resolve(await job.work());
      } catch (e) {
        job.reject(e);
      }
    }
    this.busy.delete(key);
  }
}
