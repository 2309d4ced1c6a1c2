interface Job {
  work: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

/**
 * Runs async work one at a time per key, in the order it was queued; different keys run concurrently.
 * The hub's answer to interleaving awaits: a device's messages, a branch's task decisions, one alert's
 * raise and clear. A failed piece of work rejects its own caller and does not stop the queue.
 * Each busy key takes its jobs in turn: a job costs its caller's promise and one `then` (a chain of `then`s cost three
 * promises and as many microtask hops per job, on every device message; BENCHMARKS.md, part 11).
 */
export class KeyedQueue {
  /** The keys with work queued or running: their jobs not yet started. */
  private readonly busy = new Map<string, Job[]>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const job = { work, resolve: resolve as (value: unknown) => void, reject };
      const queued = this.busy.get(key);
      if (queued) return void queued.push(job);
      const jobs = [job];
      this.busy.set(key, jobs);
      // Started in a microtask, as a `then` would: the caller goes on before its work does.
      queueMicrotask(() => this.next(key, jobs));
    });
  }

  /** Resolves when everything queued so far has finished: a job of nothing behind each key's last. */
  async drain(): Promise<void> {
    await Promise.all([...this.busy.keys()].map((key) => this.run(key, async () => undefined)));
  }

  /** Starts the key's next job; once it settles, the one after it. */
  private next(key: string, jobs: Job[]): void {
    const job = jobs.shift();
    if (!job) return void this.busy.delete(key);
    let done: Promise<unknown>;
    try {
      done = job.work();
    } catch (e) {
      done = Promise.reject(e);
    }
    done.then(
      (value) => (job.resolve(value), this.next(key, jobs)),
      (e: unknown) => (job.reject(e), this.next(key, jobs)),
    );
  }
}
