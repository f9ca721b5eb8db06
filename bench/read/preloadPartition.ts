import { randomUUID } from 'node:crypto';
import type { Kafka, Message, Producer } from 'kafkajs';
import { initTransactional } from '../../guard/protocol/fencing.js';
import type { IndexEntry } from '../../guard/read/positionIndex.js';
import { contentHash } from '../../pipeline/events/contentHash.js';
import { encodeHeaders } from '../../pipeline/events/eventRecord.js';
import type { EventCatalog } from '../../pipeline/schemas/eventCatalog.js';
import { progress } from '../support/run.js';

/**
 * One partition of `offsets` records as the guard writes them (key = stream, Avro value, kes headers, in
 * transactions of `txEvents`), holding the target streams' events spread evenly over it, each event an append of
 * its own (the worst case for an index: one entry per event) among filler events of other streams. Answers each
 * target's positions, from the transactions' base offsets, for the index the guard would have written.
 */
export interface TargetStream {
  stream: string;
  events: number;
  positions: IndexEntry[];
}

export async function preloadPartition(args: {
  kafka: Kafka;
  catalog: EventCatalog;
  topic: string;
  offsets: number;
  txEvents: number;
  targets: readonly { stream: string; events: number }[];
  transactionalId: string;
}): Promise<TargetStream[]> {
  const { catalog, topic, offsets, txEvents } = args;
  const targets: TargetStream[] = args.targets.map((t) => ({ ...t, positions: [] }));
  // Which target (if any) writes the record at place i: target t's k-th event at floor((k + 0.5) * offsets / n).
  const at = new Map<number, TargetStream>();
  for (const t of targets) {
    for (let k = 0; k < t.events; k++) {
      let place = Math.floor(((k + 0.5) * offsets) / t.events);
      while (at.has(place)) place++;
      at.set(place, t);
    }
  }
  const data = { amount: 100, currency: 'EUR', transferId: null };
  const value = catalog.encode('MoneyDeposited', data);
  const hash = contentHash('MoneyDeposited', data, undefined);
  const fillerStreams = 10_000;
  const fillerNext = new Array<number>(fillerStreams).fill(0);
  const next = new Map<TargetStream, number>(targets.map((t) => [t, 0]));
  const producer: Producer = await initTransactional(args.kafka, args.transactionalId, 60_000);
  const started = Date.now();
  let reported = 0;
  try {
    for (let base = 0; base < offsets; base += txEvents) {
      const n = Math.min(txEvents, offsets - base);
      const timeMs = Date.now();
      const messages: Message[] = [];
      const placed: { target: TargetStream; version: number; index: number }[] = [];
      for (let i = 0; i < n; i++) {
        const target = at.get(base + i);
        let stream: string;
        let version: number;
        if (target) {
          stream = target.stream;
          version = next.get(target) as number;
          next.set(target, version + 1);
          placed.push({ target, version, index: i });
        } else {
          const f = (base + i) % fillerStreams;
          stream = `account-filler${f}`;
          version = fillerNext[f] as number;
          fillerNext[f] = version + 1;
        }
        const headers = encodeHeaders({
          stream,
          version,
          eventId: randomUUID(),
          type: 'MoneyDeposited',
          timeMs,
          contentHash: hash,
        });
        messages.push({ key: stream, value, partition: 0, timestamp: String(timeMs), headers });
      }
      const tx = await producer.transaction();
      let baseOffset: number;
      try {
        const [meta] = await tx.send({ topic, acks: -1, timeout: 30_000, messages });
        baseOffset = Number(meta?.baseOffset);
        await tx.commit();
      } catch (error) {
        await tx.abort().catch(() => {});
        throw error;
      }
      for (const p of placed) p.target.positions.push({ version: p.version, offset: baseOffset + p.index });
      if (base + n - reported >= offsets / 5) {
        reported = base + n;
        progress(`  ${reported} of ${offsets} records, ${Math.round(reported / ((Date.now() - started) / 1000))}/s`);
      }
    }
  } finally {
    await producer.disconnect().catch(() => {});
  }
  return targets;
}
