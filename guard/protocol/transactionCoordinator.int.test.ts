import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../pipeline/kafka/kafkaClient.js';
import { uniqueName } from '../../test/support/names.js';
import { stack } from '../../test/support/stack.js';
import { initTransactional } from './fencing.js';

/**
 * The defect patched in kafkajs (patches/kafkajs+2.2.4.patch, eosManager): stock kafkajs asks FindCoordinator
 * before every AddPartitionsToTxn and before every EndTxn, two extra round trips in each transaction. The guard's
 * producers (guard/protocol/fencing.ts) keep the coordinator found at init until a request to it fails, as the Java
 * producer does. Counted from kafkajs's own request events, against a stock producer in the same run.
 */
describe('transaction coordinator (kafkajs patched)', () => {
  const kafka = createKafka({ KAFKA_BROKERS: stack().kafkaBrokers }, uniqueName('coord'));
  const admin = kafka.admin();
  const topic = uniqueName('coord');

  beforeAll(async () => {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
  });

  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  async function lookupsIn(transactions: number, cacheCoordinator: boolean): Promise<number> {
    const producer = await initTransactional(kafka, uniqueName('coord-tx'), 10_000, { cacheCoordinator });
    let lookups = 0;
    producer.on(producer.events.REQUEST, (e) => {
      if (e.payload.apiName === 'GroupCoordinator') lookups += 1;
    });
    try {
      for (let i = 0; i < transactions; i++) {
        const tx = await producer.transaction();
        await tx.send({ topic, acks: -1, messages: [{ key: `k${i}`, value: 'v', partition: i % 2 }] });
        await tx.commit();
      }
    } finally {
      await producer.disconnect();
    }
    return lookups;
  }

  it('is looked up once per producer by the guard, twice per transaction by stock kafkajs', async () => {
    expect(await lookupsIn(20, false)).toBeGreaterThanOrEqual(40);
    expect(await lookupsIn(20, true)).toBe(0);
  });
});
