import { loadavg } from 'node:os';
import { median } from '../../bench/support/latency.js';
import { UsageError } from '../../pipeline/errors.js';
import { uniqueName } from '../../verify/processes/names.js';
import { type ColdReadRow, coldReadCharts, coldReadReading, coldReadTable } from '../coldRead/coldReadFigures.js';
import { KafkaStreams, TX_EVENTS } from '../coldRead/kafkaStream.js';
import { loadPostgresStream, readPostgresStream } from '../coldRead/postgresStream.js';
import type { Experiment } from '../core/experiment.js';
import { positiveList, positiveNumber } from '../core/optionValues.js';
import { reachablePostgresUrl } from '../postgres/postgresUrl.js';

const NAME = 'cold-read';

/**
 * Loading one stream with nothing cached for it, as a command's first load or a new subscriber's read does, from a
 * partition (or table) holding P offsets in all: raw Kafka's scan from offset 0, kes' indexed read, and Postgres'
 * get_stream_messages. Each P gets a fresh partition and a fresh messages table holding the stream the same way.
 */
export const coldRead: Experiment = {
  name: NAME,
  title: 'Cold read: loading one stream from a partition of P offsets',
  summary: 'load time of an L-event stream against the partition size P: raw scan, kes index, Postgres',
  options: [
    {
      name: 'offsets',
      description: 'offsets the partition (and rows the table) hold in all, comma-separated',
      full: '1000,10000,100000,1000000',
      quick: '1000,10000,100000',
    },
    { name: 'events', description: 'events of the stream loaded (L)', full: '100', quick: '100' },
    {
      name: 'runs',
      description: 'loads per way and P for the indexed read and Postgres (median)',
      full: '5',
      quick: '3',
    },
  ],

  check: (option) => {
    coldReadOptions(option);
  },

  async run(ctx) {
    const { sizes, events, runs } = coldReadOptions(ctx.option);
    const postgresUrl = await reachablePostgresUrl(ctx.config);
    const namespace = uniqueName('lab_cold_read');
    const kafka = await KafkaStreams.open(ctx.config, namespace);
    const rows: ColdReadRow[] = [];
    const total = sizes.length * 3;
    try {
      for (const [i, offsets] of sizes.entries()) {
        const stream = `account-cold${offsets}`;
        ctx.progress.step(`P=${offsets}: writing the partition (transactions of ${TX_EVENTS})`, i * 3, total);
        const at = await kafka.preload(offsets, stream, events);
        ctx.progress.step(`P=${offsets}: loading the messages table`, i * 3 + 1, total);
        const { store, loadMs } = await loadPostgresStream({
          url: postgresUrl,
          schema: `${namespace}_p${offsets}`,
          stream,
          offsets,
          events,
        });
        ctx.progress.note(`P=${offsets}: messages table loaded in ${(loadMs / 1000).toFixed(1)} s`);
        ctx.progress.step(`P=${offsets}: loading the ${events}-event stream three ways`, i * 3 + 2, total);
        try {
          // A first load of each opens its connections (the reader's lanes, the pool's client); not counted.
          await kafka.indexed(at, events);
          await readPostgresStream(store, stream, events);
          const scanMs = await kafka.scan(at, events);
          const indexed: number[] = [];
          const postgres: number[] = [];
          let fetches = 0;
          for (let r = 0; r < runs; r++) {
            const read = await kafka.indexed(at, events);
            indexed.push(read.ms);
            fetches = read.fetches;
            postgres.push(await readPostgresStream(store, stream, events));
          }
          const row: ColdReadRow = {
            offsets,
            events,
            scanMs,
            indexedMs: median(indexed),
            postgresMs: median(postgres),
            fetches,
            load: loadavg()[0] ?? 0,
          };
          rows.push(row);
          ctx.progress.note(
            `P=${offsets}: scan ${row.scanMs.toFixed(1)} ms, indexed ${row.indexedMs.toFixed(1)} ms, Postgres ${row.postgresMs.toFixed(1)} ms`,
          );
        } finally {
          await store.drop().catch((e: unknown) => ctx.progress.note(`could not drop ${store.schema}: ${String(e)}`));
          await store.close();
        }
      }
    } finally {
      await kafka.close();
    }
    ctx.progress.step('done', total, total);
    return {
      settings: {
        offsets: sizes.join(','),
        events,
        runs,
        transactionEvents: TX_EVENTS,
        fillerStreams: 10_000,
        spread: 'the stream’s events evenly over the partition, one event per append',
      },
      tables: [coldReadTable(rows)],
      charts: coldReadCharts(rows),
      reading: coldReadReading(rows),
      notes: [
        'Cold means the reader holds nothing for the stream (no cached state, no snapshot); the servers and the OS page cache are warm for all three ways alike, having just been written.',
        'Partition scan: read_committed from offset 0 to the high watermark, every record fetched and decoded by kafkajs, the stream’s kept (guard/commands/streamEvents.ts, kes’ cold load before its index); measured once per P.',
        'kes indexed read: StreamReader.read at the offsets of the stream’s position index in Redis, 8 fetch lanes, only the stream’s records decoded and each checked by key and headers (docs/reading.md); median of the runs after one warm-up read.',
        'Postgres: message-db’s get_stream_messages(stream, 0, L) over a messages table of P rows with a unique index on (stream_name, position); median of the runs after one warm-up read.',
        'Every way reads the same stream placed the same way: L events spread evenly among P records, each its own append, among filler events of 10,000 other streams (the worst case for the index: one fetch per event).',
      ],
    };
  },
};

function coldReadOptions(option: (name: string) => string): { sizes: number[]; events: number; runs: number } {
  const sizes = positiveList(NAME, 'offsets', option('offsets'));
  const events = positiveNumber(NAME, 'events', option('events'), true);
  const runs = positiveNumber(NAME, 'runs', option('runs'), true);
  const smallest = sizes[0] as number;
  if (events > smallest) {
    throw new UsageError(`lab ${NAME} --events: ${events} events do not fit a partition of ${smallest} offsets`, {
      events,
      offsets: smallest,
    });
  }
  return { sizes, events, runs };
}
