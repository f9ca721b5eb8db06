/**
 * Gathers the partition batches of one fetch into one ClickHouse insert, and writes one batch while the next is
 * read.
 *
 * kafkajs hands a fetch's partitions to concurrent eachBatch calls and fetches again only when all of them
 * returned. Each call adds its part here; the parts added in one turn of the event loop (a fetch) are cut into one
 * flush, or sooner when the rows reach the batch limit. So the fetch size and the broker's wait (fetch.min.bytes,
 * fetch.max.wait.ms) bound a batch by bytes and by time, and one insert carries every partition's records of that
 * fetch.
 *
 * Flushes run one after the other, in the order the records were read, so offsets are committed in order. `add`
 * resolves when the flush before the part's own has finished: the caller returns to kafkajs, which fetches the
 * next batch while this one is written, and waits there if that one is not written yet. At most two batches are
 * in memory. Once a flush fails the gate is broken: no later flush writes or commits anything (that would commit
 * offsets past records that are not in ClickHouse), every `add` rejects, and `onBroken` tells the owner to read
 * again from the last committed offsets.
 */
export interface GatePart<Row> {
  rows: Row[];
}

interface Pending<Part> {
  part: Part;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class BatchGate<Part extends GatePart<unknown>> {
  private pending: Pending<Part>[] = [];
  private rows = 0;
  private scheduled = false;
  private last: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly maxRows: number,
    private readonly flush: (parts: Part[]) => Promise<void>,
    private readonly onBroken: (error: unknown) => void = () => {},
  ) {}

  get broken(): boolean {
    return this.failure !== undefined;
  }

  /** Resolves when the part may be left to the gate (the flush before it is written); rejects once broken. */
  add(part: Part): Promise<void> {
    if (this.failure) return Promise.reject(this.failure.error);
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ part, resolve, reject });
      this.rows += part.rows.length;
      if (this.rows >= this.maxRows) this.cut();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.cut());
      }
    });
  }

  /** Resolves once every flush cut so far has finished (written or failed). */
  async idle(): Promise<void> {
    if (this.pending.length > 0) this.cut();
    await this.last.catch(() => {});
  }

  /** After the owner read again from the committed offsets (and `idle()` resolved): a fresh gate. */
  reset(): void {
    this.failure = undefined;
    this.last = Promise.resolve();
  }

  private cut(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const taken = this.pending;
    this.pending = [];
    this.rows = 0;
    const previous = this.last;
    const run = (async () => {
      try {
        await previous;
      } catch (error) {
        for (const p of taken) p.reject(error);
        throw error;
      }
      if (this.failure) {
        for (const p of taken) p.reject(this.failure.error);
        throw this.failure.error;
      }
      // The batch before this one is written: the callers may go on reading while this one is written.
      for (const p of taken) p.resolve();
      try {
        await this.flush(taken.map((p) => p.part));
      } catch (error) {
        if (!this.failure) {
          this.failure = { error };
          this.onBroken(error);
        }
        throw error;
      }
    })();
    run.catch(() => {});
    this.last = run;
  }
}
