import { randomBytes } from 'node:crypto';
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';

/**
 * Reads ranges of partitions as read_committed consumers see them: records of aborted (fenced) transactions and
 * transaction markers never reach `onRecords`. kafkajs has no assign-and-fetch API, so this joins a fresh,
 * single-member consumer group that never commits offsets, seeks each partition to its start, pauses the ones it
 * does not need, and stops when every range has been read to its end.
 *
 * A range's end is usually a high watermark taken after a fence: reading up to it may wait for other producers'
 * open transactions to finish (commit, abort or time out), which is exactly what recovery needs.
 */

export interface ReadRange {
  topic: string;
  partition: number;
  /** First offset to read. */
  from: number;
  /** Stop before this offset. */
  until: number;
}

export interface CommittedRecords {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
}

export interface ReadOptions {
  /** Give up (throw) if the ranges are not read within this time. @default 120000 */
  timeoutMs?: number;
  groupPrefix?: string;
  /** Bytes per partition per fetch. @default 4 MiB */
  maxBytesPerPartition?: number;
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export async function readCommitted(
  kafka: Kafka,
  ranges: readonly ReadRange[],
  onRecords: (records: CommittedRecords) => void | Promise<void>,
  options: ReadOptions = {},
): Promise<void> {
  const pending = new Map<string, ReadRange>();
  for (const r of ranges) if (r.until > r.from) pending.set(key(r.topic, r.partition), r);
  if (pending.size === 0) return;
  const position = new Map<string, number>([...pending].map(([k, r]) => [k, r.from]));
  const topics = [...new Set([...pending.values()].map((r) => r.topic))];

  const consumer: Consumer = kafka.consumer({
    groupId: `${options.groupPrefix ?? 'kes-reader'}-${randomBytes(6).toString('hex')}`,
    readUncommitted: false,
    allowAutoTopicCreation: false,
    maxBytesPerPartition: options.maxBytesPerPartition ?? 4 * 1024 * 1024,
    maxWaitTimeInMs: 100,
    retry: { retries: 10 },
  });

  let settle: (error?: unknown) => void = () => {};
  const done = new Promise<void>((resolve, reject) => {
    settle = (error) => (error === undefined ? resolve() : reject(error));
  });
  const advance = (topic: string, partition: number, next: number) => {
    const k = key(topic, partition);
    const range = pending.get(k);
    if (!range) return;
    position.set(k, Math.max(position.get(k) ?? 0, next));
    if (next >= range.until) {
      pending.delete(k);
      void consumer.pause([{ topic, partitions: [partition] }]);
      if (pending.size === 0) settle();
    }
  };

  // Batches that hold only markers or aborted records skip eachBatch; their end still moves the position.
  const offBatch = consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    advance(payload.topic, payload.partition, Number(payload.lastOffset) + 1);
  });
  const offCrash = consumer.on(consumer.events.CRASH, ({ payload }) => settle(payload.error));
  const timer = setTimeout(
    () => settle(new Error(`reading ${describe(pending)} timed out after ${options.timeoutMs ?? 120_000} ms`)),
    options.timeoutMs ?? 120_000,
  );

  const cleanups: (() => void)[] = [];
  try {
    await consumer.connect();
    // Registered before run(): run() joins the group, and the seeks must land before the first fetch.
    const offJoin = consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
        const idle: number[] = [];
        for (const partition of partitions) {
          const range = pending.get(key(topic, partition));
          if (range) consumer.seek({ topic, partition, offset: String(position.get(key(topic, partition)) ?? 0) });
          else idle.push(partition);
        }
        if (idle.length > 0) consumer.pause([{ topic, partitions: idle }]);
      }
    });
    cleanups.push(offJoin);
    for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: true });
    const started = consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch, heartbeat }) => {
        const k = key(batch.topic, batch.partition);
        const range = pending.get(k);
        if (!range) return;
        const from = position.get(k) ?? range.from;
        const messages = batch.messages.filter((m) => {
          const offset = Number(m.offset);
          return offset >= from && offset < range.until;
        });
        if (messages.length > 0) await onRecords({ topic: batch.topic, partition: batch.partition, messages });
        await heartbeat();
      },
    });
    await started;
    await done;
  } finally {
    clearTimeout(timer);
    offBatch();
    offCrash();
    for (const cleanup of cleanups) cleanup();
    await consumer.disconnect().catch(() => {});
  }
}

function describe(pending: Map<string, ReadRange>): string {
  return [...pending.values()].map((r) => `${r.topic}[${r.partition}] ${r.from}..${r.until}`).join(', ');
}
