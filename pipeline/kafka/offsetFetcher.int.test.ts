import { CompressionTypes, type Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../../test/support/names.js';
import { stack } from '../../test/support/stack.js';
import { readCommitted } from './committedReader.js';
import { HighWatermarks } from './highWatermarks.js';
import { createKafka } from './kafkaClient.js';
import { OffsetFetcher } from './offsetFetcher.js';

/**
 * The offset fetcher (own Fetch requests, records of one key decoded in place) gives, from any offset, the records of
 * that key readCommitted gives: aborted transactions of several producers hidden, a compressed batch read through
 * kafkajs, on the real broker.
 */
describe('offset fetcher', () => {
  let kafka: Kafka;

  beforeAll(() => {
    kafka = createKafka({ KAFKA_BROKERS: stack().kafkaBrokers }, uniqueName('ofetch'), { logLevel: logLevel.NOTHING });
  });

  const topic = uniqueName('ofetch');
  let until = 0;
  afterAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  });

  it('fetches the committed records of one key from any offset, as readCommitted sees them', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const producers = await Promise.all(
      ['a', 'b'].map(async (p) => {
        const producer = kafka.producer({
          transactionalId: uniqueName(`ofetch-${p}`),
          maxInFlightRequests: 1,
          idempotent: true,
        });
        await producer.connect();
        return producer;
      }),
    );
    // Two producers' transactions interleaved, every third aborted, one gzip-compressed.
    for (let t = 0; t < 9; t++) {
      const tx = await (producers[t % 2] as (typeof producers)[number]).transaction();
      await tx.send({
        topic,
        compression: t === 4 ? CompressionTypes.GZIP : CompressionTypes.None,
        messages: Array.from({ length: 6 }, (_, i) => ({
          key: i % 2 === 0 ? 'k-1' : 'k-2',
          value: `${t}-${i}`,
          partition: 0,
          headers: { t: String(t) },
        })),
      });
      await (t % 3 === 2 ? tx.abort() : tx.commit());
    }
    await Promise.all(producers.map((p) => p.disconnect()));
    const watermarks = new HighWatermarks(kafka);
    until = (await watermarks.of(topic)).get(0) ?? 0;
    await watermarks.close();

    const all: { offset: number; key: string; value: string }[] = [];
    await readCommitted(kafka, [{ topic, partition: 0, from: 0, until }], ({ messages }) => {
      for (const m of messages) all.push({ offset: Number(m.offset), key: String(m.key), value: String(m.value) });
    });
    expect(all.length).toBe(6 * 6); // 9 transactions, 3 aborted

    const fetcher = new OffsetFetcher(kafka);
    try {
      for (const from of [0, 1, 7, 20, 30, 45]) {
        const got: string[] = [];
        let offset = from;
        // A fetch that never moves on (a batch it cannot read) must fail here, not hang.
        for (let fetches = 0; offset < until; fetches++) {
          expect(fetches, `fetches from ${from}`).toBeLessThan(100);
          const fetched = await fetcher.fetch(topic, 0, offset, {
            maxBytes: 200,
            maxWaitMs: 50,
            key: Buffer.from('k-1'),
          });
          for (const r of fetched.records) if (Number(r.offset) < until) got.push(`${r.offset}:${r.value}`);
          offset = fetched.next;
        }
        const expected = all.filter((r) => r.offset >= from && r.key === 'k-1').map((r) => `${r.offset}:${r.value}`);
        expect(got, `from ${from}`).toEqual(expected);
      }
    } finally {
      await fetcher.close();
    }
  });
});
