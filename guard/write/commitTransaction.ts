import type { Producer, RecordMetadata, TopicMessages, Transaction } from 'kafkajs';
import { failpoint } from '../../pipeline/faults/failpoints.js';

// Tested by: guard/faults/crash.int.test.ts (kills after send and after commit), guard/faults/zombie.int.test.ts
// (a fenced producer's send or commit failing) and guard/faults/brokerRestart.int.test.ts (commits of unknown outcome).

/**
 * How one group's transaction ended. Not ok with `committing` false: the commit was never asked for (and the
 * transaction was aborted), so nothing of it can become visible. With `committing` true: the commit was asked for
 * and its outcome is unknown until the slot's epoch is taken again and Kafka is read.
 */
export type TransactionResult =
  | { ok: true; metadata: RecordMetadata[] }
  | { ok: false; error: unknown; committing: boolean };

/** A group's transaction, begun before its reservation with its partitions being added meanwhile. */
export interface OpenTransaction {
  tx: Transaction;
  /** AddPartitionsToTxn in flight; never rejects (on failure sendBatch adds them again, with its retries). */
  added: Promise<void>;
}

/**
 * Begins the group's transaction and registers its partitions at once (kafkajs patched: `addPartitions`), so that
 * AddPartitionsToTxn, the transaction's first round trip, runs while Redis reserves the versions instead of after.
 * Nothing is written yet: a group that reserves nothing aborts an empty transaction.
 */
export async function beginTransaction(
  producer: Producer,
  partitions: readonly { topic: string; partition: number }[],
): Promise<OpenTransaction> {
  const tx = await producer.transaction();
  const byTopic = new Map<string, { partition: number }[]>();
  for (const { topic, partition } of partitions) {
    const list = byTopic.get(topic) ?? [];
    if (!list.some((p) => p.partition === partition)) list.push({ partition });
    byTopic.set(topic, list);
  }
  const topicData = [...byTopic].map(([topic, list]) => ({ topic, partitions: list }));
  return { tx, added: tx.addPartitions(topicData).catch(() => {}) };
}

/** Sends one group's records in its transaction (acks=all) and commits it. */
export async function commitTransaction(
  open: OpenTransaction,
  topicMessages: TopicMessages[],
  resId: string,
): Promise<TransactionResult> {
  const { tx } = open;
  let committing = false;
  try {
    await open.added;
    const metadata = await tx.sendBatch({ acks: -1, timeout: 10_000, topicMessages });
    failpoint('after-send', `reservation ${resId}`);
    committing = true;
    // From here the guard cannot tell whether Kafka committed until it takes the slot's epoch again.
    failpoint('in-commit', `reservation ${resId}`);
    await tx.commit();
    return { ok: true, metadata };
  } catch (error) {
    if (!committing) await tx.abort().catch(() => {});
    return { ok: false, error, committing };
  }
}

/** Ends a transaction that got no records (the group reserved nothing). Throws when the producer cannot. */
export async function abandonTransaction(open: OpenTransaction): Promise<void> {
  await open.added;
  await open.tx.abort();
}
