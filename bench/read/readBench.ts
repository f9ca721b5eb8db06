/**
 * bench:read — reading one stream exactly from the log (issue 14): the old path (a cold command load before the
 * index: scan the stream's partition from offset 0, guard/commands/streamEvents.ts) against the new one (fetch at
 * the offsets of the stream's position index, guard/read/), side by side in one run, for streams of 10, 100 and
 * 1,000 events in partitions of 10^4, 10^5 and 10^6 offsets (and 10^7 when asked: --offsets 10000000).
 *
 *   npm run bench:read -- [--offsets 10000,100000,1000000] [--streams 10,100,1000] [--tx-events 500] [--runs 5]
 *                         [--scan-runs 1] [--keep]
 *
 * Each partition is written fresh (one topic, one partition) with the target streams' events spread evenly over
 * it, one event per append among filler events, in transactions of --tx-events records; the index entries are the
 * ones the guard's writer records for such appends. Prints per partition size and stream: the scan's time, the
 * indexed read's median and worst of --runs, the same reader without the index (a scan with the keyed fetch: a
 * stream's first read after Redis lost everything), the fetches the indexed read made and the stream's records it
 * decoded, the bytes of Redis the stream's index takes, and the machine's load average when the row was measured.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Command } from 'commander';
import { logLevel } from 'kafkajs';
import { readStreamEvents } from '../../guard/commands/streamEvents.js';
import { StreamIndex } from '../../guard/read/streamIndex.js';
import { DEFAULT_LANES, StreamReader } from '../../guard/read/streamReader.js';
import { loadConfig } from '../../pipeline/config/config.js';
import { HighWatermarks } from '../../pipeline/kafka/highWatermarks.js';
import { createKafka } from '../../pipeline/kafka/kafkaClient.js';
import { type Column, renderRows } from '../../pipeline/output/textOutput.js';
import { createRedis } from '../../pipeline/redis/redisClient.js';
import { openEventCatalog } from '../../pipeline/schemas/eventCatalog.js';
import { cleanUpRun } from '../support/cleanUp.js';
import { listFlag } from '../support/flags.js';
import { ensureTopic } from '../support/kafkaAdmin.js';
import { newRunId, progress, runMain } from '../support/run.js';
import { preloadPartition } from './preloadPartition.js';

interface Row {
  offsets: number;
  events: number;
  preloadS: number;
  scanMs: number;
  indexMedianMs: number;
  indexMaxMs: number;
  noIndexMs: number;
  fetches: number;
  decoded: number;
  indexBytes: number;
  load: number;
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
};

runMain(
  'bench:read',
  async () => {
    const flags = new Command('bench:read')
      .option('--offsets <list>', 'partition sizes (records)', '10000,100000,1000000')
      .option('--streams <list>', 'events of the streams read', '10,100,1000')
      .option('--tx-events <n>', 'records per transaction of the pre-load (a group commit)', '500')
      .option('--runs <n>', 'indexed reads per stream (median and worst)', '5')
      .option('--scan-runs <n>', 'scans per stream (the old path; the best is kept)', '1')
      .option('--lanes <n>', "the reader's parallel fetches (one connection each)", String(DEFAULT_LANES))
      .option('--keep', 'keep the topics and Redis keys', false)
      .option('--json', 'print JSON instead of a table', false)
      .parse(process.argv)
      .opts<{
        offsets: string;
        streams: string;
        txEvents: string;
        runs: string;
        scanRuns: string;
        lanes: string;
        keep: boolean;
        json: boolean;
      }>();
    const runId = newRunId();
    const topicPrefix = `bench_read_${runId}.`;
    const redisPrefix = `bench_read_${runId}:`;
    const config = loadConfig({ overrides: { KES_TOPIC_PREFIX: topicPrefix, KES_REDIS_PREFIX: redisPrefix } });
    const kafka = createKafka(config, `kes-bench-read-${runId}`, { logLevel: logLevel.NOTHING });
    const redis = createRedis(config);
    const catalog = await openEventCatalog({ registryUrl: config.SCHEMA_REGISTRY_URL, dir: config.KES_SCHEMAS_DIR });
    const watermarks = new HighWatermarks(kafka);
    const index = new StreamIndex(redis, redisPrefix);
    const reader = new StreamReader(kafka, watermarks, catalog, index, 600_000, Number(flags.lanes));
    const rows: Row[] = [];
    try {
      for (const offsets of listFlag('--offsets', flags.offsets)) {
        const topic = `${topicPrefix}account${offsets}`;
        await ensureTopic(kafka, topic, 1, config.KES_TOPIC_REPLICATION, [{ name: 'retention.ms', value: '-1' }]);
        progress(`pre-loading ${offsets} records into ${topic}`);
        const started = performance.now();
        const targets = await preloadPartition({
          kafka,
          catalog,
          topic,
          offsets,
          txEvents: Number(flags.txEvents),
          targets: listFlag('--streams', flags.streams).map((events) => ({
            stream: `account-read${events}x${offsets}`,
            events,
          })),
          transactionalId: `kes-bench-read.${runId}.${offsets}`,
        });
        const preloadS = (performance.now() - started) / 1000;
        progress(`  pre-loaded in ${preloadS.toFixed(1)} s`);
        for (const target of targets) {
          await index.add(topic, 0, target.stream, target.positions);
          const at = { topic, partition: 0, stream: target.stream };
          const last = target.events - 1;
          // Warm up once (every lane's connection, metadata, the registry's schema), then measure.
          await reader.read(at, 0, last);
          let scanMs = Number.POSITIVE_INFINITY;
          for (let r = 0; r < Number(flags.scanRuns); r++) {
            const t0 = performance.now();
            const events = await readStreamEvents(
              kafka,
              watermarks,
              catalog,
              {
                ...at,
                fromOffset: 0,
                afterVersion: -1,
                untilVersion: last,
              },
              600_000,
            );
            scanMs = Math.min(scanMs, performance.now() - t0);
            if (events.length !== target.events) throw new Error(`scan read ${events.length} of ${target.events}`);
          }
          const times: number[] = [];
          let fetches = 0;
          let decoded = 0;
          for (let r = 0; r < Number(flags.runs); r++) {
            const t0 = performance.now();
            const { events, stats } = await reader.read(at, 0, last);
            times.push(performance.now() - t0);
            if (events.length !== target.events || stats.scanned) {
              throw new Error(`indexed read: ${events.length} of ${target.events}, scanned ${stats.scanned}`);
            }
            events.forEach((e, v) => {
              if (e.version !== v || e.position.offset !== target.positions[v]?.offset) {
                throw new Error(
                  `indexed read: version ${v} at ${e.position.offset}, written at ${target.positions[v]?.offset}`,
                );
              }
            });
            fetches = stats.fetches;
            decoded = stats.recordsDecoded;
          }
          // The path after Redis lost the index: the same reader scanning the partition, decoding the key's records only.
          const t1 = performance.now();
          const unindexed = await reader.read(at, 0, last, { useIndex: false });
          const noIndexMs = performance.now() - t1;
          if (unindexed.events.length !== target.events) throw new Error('scan without the index: events missing');
          const row: Row = {
            offsets,
            events: target.events,
            preloadS,
            scanMs,
            indexMedianMs: median(times),
            indexMaxMs: Math.max(...times),
            noIndexMs,
            fetches,
            decoded,
            indexBytes: await index.memoryUsage(topic, 0, target.stream),
            load: loadavg()[0] ?? Number.NaN,
          };
          rows.push(row);
          progress(
            `  ${target.events} events of ${offsets}: scan ${scanMs.toFixed(0)} ms, index ${row.indexMedianMs.toFixed(1)} ms`,
          );
        }
      }
    } finally {
      await reader.close();
      await watermarks.close();
      if (!flags.keep) {
        await cleanUpRun({ kafka, topicPrefix, redis, redisPrefix }).catch((e: unknown) =>
          progress(`clean-up: ${String(e)}`),
        );
      }
      await redis.quit();
    }
    const columns: Column<Row>[] = [
      { header: 'partition offsets', value: (r) => r.offsets, align: 'right' },
      { header: 'stream events', value: (r) => r.events, align: 'right' },
      { header: 'scan (old) ms', value: (r) => r.scanMs.toFixed(0), align: 'right' },
      { header: 'index (new) ms, median', value: (r) => r.indexMedianMs.toFixed(1), align: 'right' },
      { header: 'worst', value: (r) => r.indexMaxMs.toFixed(1), align: 'right' },
      { header: 'speed-up', value: (r) => `${(r.scanMs / r.indexMedianMs).toFixed(0)}x`, align: 'right' },
      { header: 'no index (scan, new fetch) ms', value: (r) => r.noIndexMs.toFixed(0), align: 'right' },
      { header: 'fetches', value: (r) => r.fetches, align: 'right' },
      { header: 'records decoded', value: (r) => r.decoded, align: 'right' },
      { header: 'index bytes (Redis)', value: (r) => r.indexBytes, align: 'right' },
      { header: 'pre-load s', value: (r) => r.preloadS.toFixed(0), align: 'right' },
      { header: 'load avg', value: (r) => r.load.toFixed(1), align: 'right' },
    ];
    process.stdout.write(`${flags.json ? JSON.stringify(rows, null, 2) : renderRows(rows, columns, 'table')}\n`);
    return 0;
  },
  2_000,
);
