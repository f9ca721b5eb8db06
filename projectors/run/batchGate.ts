/**
 * Gathers the partition batches of one fetch into one ClickHouse insert.
 *
 * kafkajs hands a fetch's partitions to concurrent eachBatch calls and fetches again only when all of them
 * returned. Each call adds its part here and waits until the part is flushed; the flush runs once the calls of the
 * fetch have added theirs (next turn of the event loop), or at once when the rows reach the batch limit. So the
 * fetch size and the broker's wait (fetch.min.bytes, fetch.max.wait.ms) bound a batch by bytes and by time, and
 * one insert carries every partition's records of that fetch.
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
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly maxRows: number,
    private readonly flush: (parts: Part[]) => Promise<void>,
  ) {}

  /** Resolves when `part` is written (or rejects with why it was not). */
  add(part: Part): Promise<void> {
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

  private cut(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const taken = this.pending;
    this.pending = [];
    this.rows = 0;
    // Flushes run one after the other: offsets are committed in the order the records were read.
    this.chain = this.chain.then(async () => {
      try {
        await this.flush(taken.map((p) => p.part));
        for (const p of taken) p.resolve();
      } catch (error) {
        for (const p of taken) p.reject(error);
      }
    });
  }
}
