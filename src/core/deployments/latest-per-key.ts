/**
 * Work per key where only the latest run matters (each job reads the current state itself), at most `concurrency` keys
 * at a time. A call while the key's job waits to start joins it (taking its place with the newer function); a call
 * while it runs queues one more, which starts after it. What waits is a key, not a request: under a fleet's load a
 * thousand environments' GitHub mirrors wait here as a thousand small entries instead of a thousand Octokit requests
 * (each with its own retry limiter) held in Octokit's one-write-a-second queue, and each writes its latest state once.
 */
export class LatestPerKey {
  private readonly running = new Set<string>();
  private readonly waiting = new Map<string, Waiting>();
  /** Keys waiting for a slot, oldest first. */
  private readonly order: string[] = [];
  private readonly idle: Array<() => void> = [];

  constructor(private readonly concurrency: number) {}

  /** Runs `fn` for `key` once a slot is free and the key's running job (if any) has settled; settles as it does. */
  run(key: string, fn: () => Promise<void>): Promise<void> {
    const queued = this.waiting.get(key);
    if (queued) {
      queued.fn = fn;
      return queued.done;
    }
    let settle!: Waiting['settle'];
    const done = new Promise<void>((resolve, reject) => (settle = (err) => (err === undefined ? resolve() : reject(err))));
    this.waiting.set(key, { fn, done, settle });
    this.order.push(key);
    this.next();
    return done;
  }

  /** Whether a job of `key` runs or waits. */
  busy(key: string): boolean {
    return this.running.has(key) || this.waiting.has(key);
  }

  /** Drops every job still waiting for its turn (they resolve without running); the running ones go on. */
  drop(): void {
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    this.order.length = 0;
    for (const job of waiting) job.settle(undefined);
    this.next();
  }

  /** Resolves once nothing runs or waits. */
  settled(): Promise<void> {
    if (this.running.size === 0 && this.waiting.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private next(): void {
    for (let i = 0; i < this.order.length && this.running.size < this.concurrency; ) {
      const key = this.order[i]!;
      if (this.running.has(key)) {
        i++;
        continue;
      }
      this.order.splice(i, 1);
      const job = this.waiting.get(key)!;
      this.waiting.delete(key);
      this.running.add(key);
      void Promise.resolve()
        .then(job.fn)
        .then(
          () => job.settle(undefined),
          (err: unknown) => job.settle(err ?? new Error('job failed')),
        )
        .finally(() => {
          this.running.delete(key);
          this.next();
        });
    }
    if (this.running.size === 0 && this.waiting.size === 0) for (const resolve of this.idle.splice(0)) resolve();
  }
}

interface Waiting {
  fn: () => Promise<void>;
  done: Promise<void>;
  settle: (err: unknown) => void;
}
