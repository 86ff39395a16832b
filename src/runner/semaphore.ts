/** Counts running jobs across every queue a worker serves (WORKER_CONCURRENCY). FIFO, so no queue starves. */
export class Semaphore {
  private readonly waiting: Array<() => void> = [];
  private used = 0;

  constructor(private readonly size: number) {}

  get running(): number {
    return this.used;
  }

  async acquire(): Promise<void> {
    if (this.used < this.size) {
      this.used++;
      return;
    }
    // The releaser hands its slot over directly, so `used` stays counted.
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.used--;
  }
}
