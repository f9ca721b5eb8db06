import type { Producer, RecordMetadata, TopicMessages } from 'kafkajs';
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

/** Sends one group's records in one Kafka transaction (acks=all) and commits it. */
export async function commitTransaction(
  producer: Producer,
  topicMessages: TopicMessages[],
  resId: string,
): Promise<TransactionResult> {
  let committing = false;
  try {
    const tx = await producer.transaction();
    try {
      const metadata = await tx.sendBatch({ acks: -1, timeout: 10_000, topicMessages });
      failpoint('after-send', `reservation ${resId}`);
      committing = true;
      // From here the guard cannot tell whether Kafka committed until it takes the slot's epoch again.
      failpoint('in-commit', `reservation ${resId}`);
      await tx.commit();
      return { ok: true, metadata };
    } catch (error) {
      if (!committing) await tx.abort().catch(() => {});
      throw error;
    }
  } catch (error) {
    return { ok: false, error, committing };
  }
}
