import type { Kafka } from 'kafkajs';
import { HighWatermarks } from '../../pipeline/kafka/highWatermarks.js';
import { uniqueName } from './names.js';

/**
 * Partition logs that read_committed readers get wrong in known ways, written on the real broker for the readers'
 * tests (pipeline/kafka/*.int.test.ts).
 */

/**
 * Three producers' transactions interleaved in partition 0 of `topic` (created by the caller): a1 b1 c1 b2 a2, A
 * aborts, b3, B aborts, C commits. Read from any offset up to the end (returned), the only visible record is c1 (at
 * offset 2). Every record carries its value as header `h`.
 */
export async function writeInterleavedAborts(kafka: Kafka, topic: string): Promise<number> {
  const producer = (name: string) =>
    kafka.producer({ transactionalId: uniqueName(name), maxInFlightRequests: 1, idempotent: true });
  const [a, b, c] = [producer('a'), producer('b'), producer('c')];
  for (const p of [a, b, c]) await p.connect();
  try {
    const [ta, tb, tc] = [await a.transaction(), await b.transaction(), await c.transaction()];
    const send = (tx: typeof ta, v: string) =>
      tx.send({ topic, messages: [{ value: v, partition: 0, headers: { h: v } }] });
    await send(ta, 'a1');
    await send(tb, 'b1');
    await send(tc, 'c1');
    await send(tb, 'b2');
    await send(ta, 'a2');
    await ta.abort();
    await send(tb, 'b3');
    await tb.abort();
    await tc.commit();
  } finally {
    for (const p of [a, b, c]) await p.disconnect();
  }
  const watermarks = new HighWatermarks(kafka);
  try {
    return (await watermarks.of(topic)).get(0) ?? 0;
  } finally {
    await watermarks.close();
  }
}

/** Sockets this process has open to the broker at `port` (to show that a reader leaves none behind). */
export function socketsTo(port: number): number {
  return (process as unknown as { _getActiveHandles(): { remotePort?: number }[] })
    ._getActiveHandles()
    .filter((h) => h.remotePort === port).length;
}
