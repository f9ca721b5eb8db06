/**
 * bench:subscribe — what subscribe() costs over a bare kafkajs consumer (issue 14). Pre-loads N committed events as
 * the guard writes them (transactions, kes headers, Avro values) into a fresh topic, then reads them all from the
 * start, in the same run, with:
 *
 *   raw          a kafkajs consumer group, read_committed, eachBatch doing nothing (the floor)
 *   subscribe    subscribe() with a handler doing nothing: decoding, one handler call per event, a commit per slice
 *   subscribe32  the same with streamsAtOnce 32 (the process manager's setting)
 *
 *   node dist/bench/subscribeBench.js [--events 50000] [--partitions 4] [--streams 1000] [--keep]
 *
 * Prints per reader: the time from start to the last event (group join included), the rate over that time, and the
 * rate from the first event to the last (the steady read), with the machine's load average.
 */
import { loadavg } from 'node:os';
import { Command } from 'commander';
import { type Kafka, logLevel } from 'kafkajs';
import { loadConfig } from '../pipeline/config/config.js';
import { contentHash } from '../pipeline/events/contentHash.js';
import { encodeHeaders } from '../pipeline/events/eventRecord.js';
import { createKafka } from '../pipeline/kafka/kafkaClient.js';
import { assertReadCommittedPatched } from '../pipeline/kafka/readCommittedPatch.js';
import { type Column, renderRows } from '../pipeline/output/textOutput.js';
import { openEventCatalog } from '../pipeline/schemas/eventCatalog.js';
import { subscribe } from '../pipeline/subscribe/subscribe.js';
import { listFlag } from './support/flags.js';
import { newRunId, progress, runMain } from './support/run.js';

interface Row {
  reader: string;
  events: number;
  totalMs: number;
  eventsPerSecond: number;
  steadyPerSecond: number;
  load: string;
}

const BATCH = 1_000;

async function preload(
  kafka: Kafka,
  topic: string,
  events: number,
  streams: number,
  encode: (data: object) => Buffer,
): Promise<void> {
  const producer = kafka.producer({ transactionalId: `${topic}-writer`, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const versions = new Array<number>(streams).fill(0);
    for (let done = 0; done < events; done += BATCH) {
      const messages = Array.from({ length: Math.min(BATCH, events - done) }, (_, i) => {
        const s = (done + i) % streams;
        const stream = `${topic.split('.').pop()}-${s}`;
        const version = versions[s] ?? 0;
        versions[s] = version + 1;
        const data = { amount: 100 + version, currency: 'EUR', transferId: null };
        return {
          key: stream,
          value: encode(data),
          headers: encodeHeaders({
            stream,
            version,
            eventId: `${stream}:${version}`,
            type: 'MoneyDeposited',
            timeMs: Date.now(),
            contentHash: contentHash('MoneyDeposited', data, {}),
          }),
        };
      });
      const tx = await producer.transaction();
      await tx.send({ topic, messages });
      await tx.commit();
    }
  } finally {
    await producer.disconnect();
  }
}

/** Runs `read` until `events` were seen; answers the time to the last event and from the first to the last. */
async function timed(
  events: number,
  read: (seen: () => void) => Promise<() => Promise<void>>,
): Promise<{ totalMs: number; steadyMs: number }> {
  const started = performance.now();
  let first = 0;
  let count = 0;
  let finish = () => {};
  const all = new Promise<void>((r) => {
    finish = r;
  });
  const stop = await read(() => {
    if (count === 0) first = performance.now();
    count++;
    if (count === events) finish();
  });
  await all;
  const ended = performance.now();
  await stop();
  return { totalMs: ended - started, steadyMs: ended - first };
}

async function main(): Promise<number> {
  const program = new Command()
    .option('--events <n>', 'events to pre-load and read', '50000')
    .option('--partitions <n>', 'partitions of the topic', '4')
    .option('--streams <n>', 'streams the events are spread over', '1000')
    .option('--keep', 'keep the topic')
    .parse();
  const f = program.opts<{ events: string; partitions: string; streams: string; keep?: boolean }>();
  const [events = 0] = listFlag('--events', f.events);
  const [partitions = 0] = listFlag('--partitions', f.partitions);
  const [streams = 0] = listFlag('--streams', f.streams);
  assertReadCommittedPatched();
  const config = loadConfig();
  const kafka = createKafka(config, 'kes-bench-subscribe', { logLevel: logLevel.NOTHING });
  const catalog = await openEventCatalog({ registryUrl: config.SCHEMA_REGISTRY_URL, dir: config.KES_SCHEMAS_DIR });
  const run = newRunId();
  const category = `benchsub${run}`.replace(/[^a-z0-9_]/g, '_');
  const topic = `${config.KES_TOPIC_PREFIX}${category}`;
  const admin = kafka.admin();
  await admin.connect();
  const rows: Row[] = [];
  try {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions }] });
    progress(`pre-load: ${events} events over ${streams} streams into ${partitions} partitions`);
    await preload(kafka, topic, events, streams, (data) => catalog.encode('MoneyDeposited', data));
    const row = (reader: string, t: { totalMs: number; steadyMs: number }) => {
      rows.push({
        reader,
        events,
        totalMs: Math.round(t.totalMs),
        eventsPerSecond: Math.round((events * 1000) / t.totalMs),
        steadyPerSecond: Math.round((events * 1000) / Math.max(1, t.steadyMs)),
        load: loadavg()
          .map((l) => l.toFixed(1))
          .join(' '),
      });
      progress(`${reader}: ${Math.round(t.totalMs)} ms`);
    };

    row(
      'raw',
      await timed(events, async (seen) => {
        const consumer = kafka.consumer({ groupId: `${topic}-raw`, readUncommitted: false, maxWaitTimeInMs: 100 });
        await consumer.connect();
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumer.run({
          partitionsConsumedConcurrently: 8,
          eachBatch: async ({ batch }) => {
            for (const _ of batch.messages) seen();
          },
        });
        return () => consumer.disconnect();
      }),
    );
    for (const [reader, streamsAtOnce] of [
      ['subscribe', 1],
      ['subscribe32', 32],
    ] as const) {
      row(
        reader,
        await timed(events, async (seen) => {
          const sub = subscribe(
            { categories: [category], group: `${topic}-${reader}`, config, kafka, catalog, streamsAtOnce },
            () => seen(),
          );
          return () => sub.close();
        }),
      );
    }
  } finally {
    if (!f.keep) await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  }
  const columns: Column<Row>[] = [
    { header: 'reader', value: (r) => r.reader },
    { header: 'events', value: (r) => r.events },
    { header: 'start to last (ms)', value: (r) => r.totalMs },
    { header: 'events/s', value: (r) => r.eventsPerSecond },
    { header: 'first to last events/s', value: (r) => r.steadyPerSecond },
    { header: 'load 1/5/15', value: (r) => r.load },
  ];
  process.stdout.write(`${renderRows(rows, columns, 'table')}\n`);
  return 0;
}

runMain('bench:subscribe', main, 2_000);
