import { type Admin, type Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { socketsTo, writeInterleavedAborts } from '../../test/support/kafkaLogFixtures.js';
import { uniqueName } from '../../test/support/names.js';
import { stack } from '../../test/support/stack.js';
import { waitFor } from '../../test/support/waitFor.js';
import { readCommitted } from './committedReader.js';
import { HighWatermarks } from './highWatermarks.js';
import { createKafka } from './kafkaClient.js';

/**
 * Recovery reads partitions between two offsets as read_committed consumers see them, up to a high watermark
 * that counts open transactions. Both are proven here on the real broker.
 */
describe('committed reader and high watermarks', () => {
  let kafka: Kafka;
  let admin: Admin;

  beforeAll(async () => {
    kafka = createKafka({ KAFKA_BROKERS: stack().kafkaBrokers }, uniqueName('reader'), { logLevel: logLevel.NOTHING });
    admin = kafka.admin();
    await admin.connect();
  });
  afterAll(async () => admin.disconnect());

  it('reads committed records of a range, skips aborted ones and markers, and sees past open transactions', async () => {
    const topic = uniqueName('reader');
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    const producer = kafka.producer({
      transactionalId: uniqueName('reader-tx'),
      maxInFlightRequests: 1,
      idempotent: true,
    });
    await producer.connect();
    const write = async (values: string[], commit: boolean) => {
      const tx = await producer.transaction();
      await tx.send({ topic, messages: values.map((value) => ({ value, partition: 0 })) });
      await (commit ? tx.commit() : tx.abort());
    };
    await write(['a', 'b'], true); // offsets 0, 1, marker 2
    await write(['x'], false); // 3, marker 4
    await write(['c'], true); // 5, marker 6

    const open = kafka.producer({
      transactionalId: uniqueName('reader-open'),
      maxInFlightRequests: 1,
      idempotent: true,
    });
    await open.connect();
    const openTx = await open.transaction();
    await openTx.send({ topic, messages: [{ value: 'open', partition: 0 }] }); // 7, still open
    await write(['d'], true); // 8, marker 9: above the last stable offset until `open` ends

    const watermarks = new HighWatermarks(kafka);
    const high = await watermarks.of(topic);
    await watermarks.close();
    expect(high.get(0)).toBe(10);
    expect(high.get(1)).toBe(0);
    const lso = await admin.fetchTopicOffsets(topic);
    expect(lso.find((p) => p.partition === 0)?.offset).toBe('7');

    const seen: string[] = [];
    const reading = readCommitted(
      kafka,
      [{ topic, partition: 0, from: 1, until: high.get(0) ?? 0 }],
      ({ messages }) => {
        for (const m of messages) seen.push(`${m.offset}:${m.value?.toString()}`);
      },
    );
    // The read reaches the open transaction and waits there; its abort lets it finish.
    await waitFor('the records before the open transaction', () => seen.includes('5:c'));
    await new Promise((r) => setTimeout(r, 300));
    expect(seen).toEqual(['1:b', '5:c']);
    await openTx.abort();
    await reading;
    expect(seen).toEqual(['1:b', '5:c', '8:d']);

    await producer.disconnect();
    await open.disconnect();
  });

  it('hides interleaved aborted transactions of several producers, read from any offset', async () => {
    const topic = uniqueName('reader');
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const until = await writeInterleavedAborts(kafka, topic);
    for (let from = 0; from < until; from++) {
      const seen: string[] = [];
      await readCommitted(kafka, [{ topic, partition: 0, from, until }], ({ messages }) => {
        for (const m of messages) seen.push(m.value?.toString() ?? '');
      });
      expect({ from, seen }).toEqual({ from, seen: from <= 2 ? ['c1'] : [] });
    }
  });

  it('returns at once for empty ranges', async () => {
    await readCommitted(kafka, [{ topic: 'nope', partition: 0, from: 5, until: 5 }], () => {
      throw new Error('no records expected');
    });
  });

  it('leaves no connection open after reading several partitions at once (kafkajs fetch-connection race)', async () => {
    const topic = uniqueName('reader-sockets');
    await admin.createTopics({ topics: [{ topic, numPartitions: 6 }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 6 }, (_, partition) => ({ value: 'v', partition })) });
    await producer.disconnect();
    const port = Number(stack().kafkaBrokers[0]?.split(':')[1]);
    const sockets = () => socketsTo(port);
    const before = sockets();
    let read = 0;
    await readCommitted(
      kafka,
      Array.from({ length: 6 }, (_, partition) => ({ topic, partition, from: 0, until: 1 })),
      (r) => {
        read += r.messages.length;
      },
    );
    expect(read).toBe(6);
    expect(sockets()).toBe(before);
  });
});
