import { type Admin, type Consumer, type Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../../test/support/names.js';
import { stack } from '../../test/support/stack.js';
import { waitFor } from '../../test/support/waitFor.js';
import { createKafka } from './kafkaClient.js';

/**
 * What the guard will build on, proven against the real broker with kafkajs: transactions commit and abort,
 * read_committed consumers in a group see only committed records, and a second producer with the same
 * transactional.id fences the first.
 */
describe('Kafka smoke (kafkajs on a real broker)', () => {
  let kafka: Kafka;
  let admin: Admin;
  const closers: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    // Fencing makes kafkajs log the broker's refusals as errors: they are the expected outcome here.
    kafka = createKafka({ KAFKA_BROKERS: stack().kafkaBrokers }, uniqueName('smoke'), { logLevel: logLevel.NOTHING });
    admin = kafka.admin();
    await admin.connect();
  });

  afterAll(async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await admin.disconnect();
  });

  async function newTopic(): Promise<string> {
    const topic = uniqueName('smoke');
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    return topic;
  }

  async function transactional(transactionalId: string): Promise<Producer> {
    const producer = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    closers.push(() => producer.disconnect());
    return producer;
  }

  /** Everything a read_committed consumer in a fresh group reads, once it has reached the end of the topic. */
  async function readCommitted(topic: string): Promise<string[]> {
    const consumer: Consumer = kafka.consumer({ groupId: uniqueName('g'), readUncommitted: false });
    await consumer.connect();
    closers.push(() => consumer.disconnect());
    const seen: { value: string; offset: bigint }[] = [];
    let highest = -1n;
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) seen.push({ value: m.value?.toString() ?? '', offset: BigInt(m.offset) });
        // The batch's last offset counts control records (commit/abort markers) that are never delivered.
        highest = BigInt(batch.highWatermark) - 1n;
      },
    });
    const [end] = await admin.fetchTopicOffsets(topic);
    const highWatermark = BigInt(end?.high ?? '0');
    await waitFor('the consumer to reach the end of the topic', () => highest + 1n >= highWatermark, 30_000);
    await consumer.stop();
    return seen.map((s) => s.value);
  }

  it('a read_committed consumer group sees committed records and never an aborted transaction', async () => {
    const topic = await newTopic();
    const producer = await transactional(uniqueName('tx'));

    const first = await producer.transaction();
    await first.send({ topic, messages: [{ key: 'order-1', value: 'committed-1' }] });
    await first.commit();

    const aborted = await producer.transaction();
    await aborted.send({ topic, messages: [{ key: 'order-1', value: 'aborted' }] });
    await aborted.abort();

    const second = await producer.transaction();
    await second.send({ topic, messages: [{ key: 'order-1', value: 'committed-2' }] });
    await second.commit();

    expect(await readCommitted(topic)).toEqual(['committed-1', 'committed-2']);
  });

  it('a second producer with the same transactional.id fences the first, before and during its transaction', async () => {
    const topic = await newTopic();
    const transactionalId = uniqueName('tx');
    const old = await transactional(transactionalId);

    const committed = await old.transaction();
    await committed.send({ topic, messages: [{ key: 'k', value: 'old-committed' }] });
    await committed.commit();

    // A transaction in flight when the new producer takes over: its records must never become visible.
    const inFlight = await old.transaction();
    await inFlight.send({ topic, messages: [{ key: 'k', value: 'old-in-flight' }] });

    // kafkajs sends InitProducerId (which bumps the epoch and fences) at the first transaction(), not at connect().
    const successor = await transactional(transactionalId);
    const takeover = await successor.transaction();
    await takeover.send({ topic, messages: [{ key: 'k', value: 'new' }] });
    await takeover.commit();

    await expect(inFlight.commit()).rejects.toMatchObject({
      type: expect.stringMatching(/PRODUCER_FENCED|INVALID_PRODUCER_EPOCH/),
    });

    // And the fenced producer can no longer get anything committed.
    const zombieWrite = (async () => {
      const zombie = await old.transaction();
      await zombie.send({ topic, messages: [{ key: 'k', value: 'zombie' }] });
      await zombie.commit();
    })();
    await expect(zombieWrite).rejects.toBeDefined();

    expect(await readCommitted(topic)).toEqual(['old-committed', 'new']);
  });
});
