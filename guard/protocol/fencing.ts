import type { Kafka, Producer } from 'kafkajs';

/**
 * Guards write under a small pool of stable transactional ids, one per slot. A producer that initialises with a
 * slot's id gets a new epoch: the broker aborts the previous holder's open transaction and refuses its later
 * writes and commits. Because the pool is fixed, recovery can fence every possible writer without knowing which
 * guards exist, even when Redis has lost the leases.
 */
export function transactionalIdOf(namespace: string, slot: number): string {
  return `kes-guard.${namespace.replace(/[^A-Za-z0-9._-]/g, '_')}.${slot}`;
}

/**
 * A transactional producer whose epoch is current: kafkajs only asks for one at the first transaction.
 * `cacheCoordinator` (default true) keeps the transaction coordinator found at init for every transaction, through
 * the patched kafkajs (patches/kafkajs+2.2.4.patch): stock kafkajs asks FindCoordinator before every
 * AddPartitionsToTxn and EndTxn, two round trips per transaction. Benchmarks turn it off to measure stock kafkajs.
 */
export async function initTransactional(
  kafka: Kafka,
  transactionalId: string,
  timeoutMs: number,
  { cacheCoordinator = true }: { cacheCoordinator?: boolean } = {},
): Promise<Producer> {
  const producer = kafka.producer({
    transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    transactionTimeout: timeoutMs,
    // A failed request forgets the coordinator; a producer whose commit is in doubt is replaced anyway.
    cacheTransactionCoordinator: cacheCoordinator,
    allowAutoTopicCreation: false,
    retry: { retries: 5, initialRetryTime: 50, maxRetryTime: 1000 },
  });
  await producer.connect();
  try {
    const tx = await producer.transaction();
    await tx.abort();
  } catch (error) {
    await producer.disconnect().catch(() => {});
    throw error;
  }
  return producer;
}

/** Take the slot's epoch away from whoever holds it; returns once its open transaction is finished. */
export async function fence(kafka: Kafka, transactionalId: string): Promise<void> {
  const producer = await initTransactional(kafka, transactionalId, 10_000);
  await producer.disconnect();
}

const FENCED = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'INVALID_PRODUCER_ID_MAPPING']);

export function isFencedError(error: unknown): boolean {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    const type = (e as { type?: string }).type;
    if (type && FENCED.has(type)) return true;
    const originalError = (e as { originalError?: unknown }).originalError;
    if (originalError && isFencedError(originalError)) return true;
  }
  return false;
}
