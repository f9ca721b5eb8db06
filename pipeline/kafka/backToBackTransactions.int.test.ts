import { type LogEntry, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../../test/support/names.js';
import { stack } from '../../test/support/stack.js';
import { createKafka } from './kafkaClient.js';

/**
 * The defect patched in kafkajs (patches/kafkajs+2.2.4.patch, eosManager): right after a commit the coordinator
 * answers AddPartitionsToTxn with CONCURRENT_TRANSACTIONS until the previous transaction's markers are written.
 * Unpatched, kafkajs handed that to the producer's retrier, which logs "Failed to send messages" and backs off
 * `initialRetryTime` (300 ms by default, 50 ms in the guard): the tail of every back-to-back transaction. Patched,
 * it is retried within milliseconds inside AddPartitionsToTxn and never reaches the retrier. Unpatched, this test
 * fails (about one transaction in ten here goes through the retrier).
 */
describe('back-to-back transactions (kafkajs patched)', () => {
  const logged: LogEntry[] = [];
  const kafka = createKafka({ KAFKA_BROKERS: stack().kafkaBrokers }, uniqueName('b2b'), {
    logLevel: logLevel.ERROR,
    logCreator: () => (entry) => void logged.push(entry),
  });
  const admin = kafka.admin();
  const topic = uniqueName('b2b');

  beforeAll(async () => {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true });
  });

  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('never sends CONCURRENT_TRANSACTIONS to the producer retrier', async () => {
    // As the guard's producers are made (guard/protocol/fencing.ts): a short retry time, so a retried
    // AddPartitionsToTxn would show.
    const producer = kafka.producer({
      transactionalId: uniqueName('b2b-tx'),
      idempotent: true,
      maxInFlightRequests: 1,
      retry: { retries: 5, initialRetryTime: 50, maxRetryTime: 1000 },
    });
    await producer.connect();
    try {
      for (let i = 0; i < 200; i++) {
        const tx = await producer.transaction();
        await tx.send({ topic, acks: -1, messages: [{ key: `k${i}`, value: 'v', partition: i % 4 }] });
        await tx.commit();
      }
    } finally {
      await producer.disconnect();
    }
    // The broker's CONCURRENT_TRANSACTIONS answers themselves are logged by the connection ("Response
    // AddPartitionsToTxn"); only the retrier's "Failed to send messages" is the defect.
    const retried = logged.filter((e) => e.log.message.startsWith('Failed to send'));
    expect(retried.map((e) => e.log.message)).toEqual([]);
  });
});
