import { type Admin, CompressionTypes, type Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { socketsTo, writeInterleavedAborts } from '../../test/support/kafkaLogFixtures.js';
import { uniqueName } from '../../test/support/names.js';
import { stack } from '../../test/support/stack.js';
import { waitFor } from '../../test/support/waitFor.js';
import { readCommitted } from './committedReader.js';
import { type HeaderRecords, readCommittedHeaders } from './headerReader.js';
import { HighWatermarks } from './highWatermarks.js';
import { createKafka } from './kafkaClient.js';

/**
 * The header reader (own Fetch requests, record batches decoded in place) sees exactly what read_committed readers
 * see, on the real broker: the same offsets and header values as readCommitted (kafkajs' decoding with kes' abort
 * filter), aborted transactions of interleaved producers hidden from every start offset, open transactions waited
 * for, compressed batches read all the same, and no socket left behind.
 */
describe('header reader', () => {
  let kafka: Kafka;
  let admin: Admin;

  beforeAll(async () => {
    kafka = createKafka({ KAFKA_BROKERS: stack().kafkaBrokers }, uniqueName('hreader'), { logLevel: logLevel.NOTHING });
    admin = kafka.admin();
    await admin.connect();
  });
  afterAll(async () => admin.disconnect());

  const end = async (topic: string, partition = 0) => {
    const watermarks = new HighWatermarks(kafka);
    const high = (await watermarks.of(topic)).get(partition) ?? 0;
    await watermarks.close();
    return high;
  };
  const rows = (r: HeaderRecords) => r.offsets.map((o, i) => `${o}:${r.values.map((c) => c[i] ?? '-').join(',')}`);

  it('reads the asked-for headers of committed records, skips aborted ones and markers, waits for open ones', async () => {
    const topic = uniqueName('hreader');
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const producer = kafka.producer({
      transactionalId: uniqueName('hreader-tx'),
      maxInFlightRequests: 1,
      idempotent: true,
    });
    await producer.connect();
    const write = async (values: string[], commit: boolean) => {
      const tx = await producer.transaction();
      await tx.send({
        topic,
        messages: values.map((v) => ({ value: v, partition: 0, headers: { h: v, other: 'o' } })),
      });
      await (commit ? tx.commit() : tx.abort());
    };
    await write(['a', 'b'], true); // 0, 1, marker 2
    await write(['x'], false); // 3, marker 4
    await write(['c'], true); // 5, marker 6
    const open = kafka.producer({
      transactionalId: uniqueName('hreader-open'),
      maxInFlightRequests: 1,
      idempotent: true,
    });
    await open.connect();
    const openTx = await open.transaction();
    await openTx.send({ topic, messages: [{ value: 'open', partition: 0, headers: { h: 'open' } }] }); // 7, open
    await write(['d'], true); // 8, marker 9

    const seen: string[] = [];
    const reading = readCommittedHeaders(
      kafka,
      [{ topic, partition: 0, from: 1, until: await end(topic) }],
      ['h', 'missing'],
      (r) => {
        seen.push(...rows(r));
      },
    );
    // It reaches the open transaction, then waits there: nothing past it while it is open.
    await waitFor('the records before the open transaction', () => seen.includes('5:c,-'));
    await new Promise((r) => setTimeout(r, 300));
    expect(seen).toEqual(['1:b,-', '5:c,-']);
    await openTx.abort();
    await reading;
    expect(seen).toEqual(['1:b,-', '5:c,-', '8:d,-']);
    await producer.disconnect();
    await open.disconnect();
  });

  it('hides interleaved aborted transactions of several producers, read from any offset', async () => {
    const topic = uniqueName('hreader');
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const until = await writeInterleavedAborts(kafka, topic);
    for (let from = 0; from < until; from++) {
      const seen: string[] = [];
      await readCommittedHeaders(kafka, [{ topic, partition: 0, from, until }], ['h'], (r) => {
        seen.push(...(r.values[0] as string[]));
      });
      expect({ from, seen }).toEqual({ from, seen: from <= 2 ? ['c1'] : [] });
    }
  });

  it('gives what readCommitted gives, across many small fetches, several partitions and a compressed batch', async () => {
    const topic = uniqueName('hreader');
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    const producer = kafka.producer({
      transactionalId: uniqueName('hreader-many'),
      maxInFlightRequests: 1,
      idempotent: true,
    });
    await producer.connect();
    for (let t = 0; t < 12; t++) {
      const tx = await producer.transaction();
      await tx.send({
        topic,
        compression: t === 5 ? CompressionTypes.GZIP : CompressionTypes.None,
        messages: Array.from({ length: 50 }, (_, i) => ({
          value: 'v'.repeat(100),
          partition: i % 3,
          headers: { h: `${t}-${i}`, n: String(i) },
        })),
      });
      await (t % 4 === 3 ? tx.abort() : tx.commit());
    }
    await producer.disconnect();
    const ranges = await Promise.all(
      [0, 1, 2].map(async (p) => ({ topic, partition: p, from: 0, until: await end(topic, p) })),
    );
    const expected = new Map<number, string[]>();
    await readCommitted(kafka, ranges, ({ partition, messages }) => {
      const list = expected.get(partition) ?? [];
      for (const m of messages) list.push(`${m.offset}:${m.headers?.h?.toString()},${m.headers?.n?.toString()}`);
      expected.set(partition, list);
    });
    const got = new Map<number, string[]>();
    await readCommittedHeaders(
      kafka,
      ranges,
      ['h', 'n'],
      (r) => {
        got.set(r.partition, [...(got.get(r.partition) ?? []), ...rows(r)]);
      },
      { maxBytesPerPartition: 1000, lanes: 2 },
    );
    expect(Object.fromEntries(got)).toEqual(Object.fromEntries(expected));
    expect([...got.values()].flat().length).toBe(9 * 50); // 12 transactions, 3 aborted
  });

  it('leaves no connection open after reading several partitions at once', async () => {
    const topic = uniqueName('hreader-sockets');
    await admin.createTopics({ topics: [{ topic, numPartitions: 6 }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 6 }, (_, partition) => ({ value: 'v', partition })) });
    await producer.disconnect();
    const port = Number(stack().kafkaBrokers[0]?.split(':')[1]);
    const sockets = () => socketsTo(port);
    const before = sockets();
    let read = 0;
    await readCommittedHeaders(
      kafka,
      Array.from({ length: 6 }, (_, partition) => ({ topic, partition, from: 0, until: 1 })),
      [],
      (r) => {
        read += r.offsets.length;
      },
    );
    expect(read).toBe(6);
    expect(sockets()).toBe(before);
  });
});
