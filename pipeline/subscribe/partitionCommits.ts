import type { Consumer, EachBatchPayload } from 'kafkajs';
import { advances } from './commitPlan.js';

/**
 * A subscription's offset commits, per partition: one after the other, and only ever forward from what this member
 * knows was committed (`advances`). A failed commit is logged, not thrown: whoever reads the partition next delivers
 * those events again (at least once, never skipped).
 */
export class PartitionCommits {
  private readonly last = new Map<string, number>();
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    private readonly consumer: () => Consumer | undefined,
    private readonly log: (line: string) => void,
  ) {}

  /** What the group has committed for a partition, as read when it was assigned (undefined: nothing). */
  known(topic: string, partition: number, offset: number | undefined): void {
    if (offset === undefined) this.last.delete(keyOf(topic, partition));
    else this.last.set(keyOf(topic, partition), offset);
  }

  /**
   * Commits `offset` after the partition's earlier commits. Inside a batch the batch's own committer is given: the
   * consumer's commitOffsets silently does nothing once the consumer is stopping, which is exactly when the handlers
   * that were in flight need their offsets committed.
   */
  commit(
    topic: string,
    partition: number,
    offset: number,
    committer?: EachBatchPayload['commitOffsetsIfNecessary'],
  ): Promise<void> {
    const key = keyOf(topic, partition);
    const next = (this.chains.get(key) ?? Promise.resolve()).then(async () => {
      const consumer = this.consumer();
      if (!consumer || !advances(this.last.get(key), offset)) return;
      try {
        if (committer) await committer({ topics: [{ topic, partitions: [{ partition, offset: String(offset) }] }] });
        else await consumer.commitOffsets([{ topic, partition, offset: String(offset) }]);
        this.last.set(key, offset);
      } catch (error) {
        // Not committed (the group moved on, the coordinator is away).
        this.log(`${topic}[${partition}]: offset ${offset} not committed (${String(error)})`);
      }
    });
    this.chains.set(key, next);
    return next;
  }

  /** Resolves when the partition's commits asked for so far are made (or given up). */
  settled(topic: string, partition: number): Promise<void> {
    return this.chains.get(keyOf(topic, partition)) ?? Promise.resolve();
  }

  async allSettled(): Promise<void> {
    await Promise.all(this.chains.values());
  }
}

export const keyOf = (topic: string, partition: number): string => `${topic}|${partition}`;
