import { openEventCatalog } from '../../pipeline/schemas/eventCatalog.js';
import type { HttpLoadClient } from '../../verify/load/httpLoad.js';
import { closedLoop } from '../support/closedLoop.js';
import { formatNumber } from '../support/figures.js';
import { deleteTopics, ensureTopic } from '../support/kafkaAdmin.js';
import { summarize } from '../support/latency.js';
import { progress } from '../support/run.js';
import type { GuardRun, SingleAppendResult } from './guardRun.js';
import { attemptDone } from './load.js';
import { rawTransactions } from './rawCeiling.js';

/**
 * One client, one append at a time, against one raw kafkajs producer doing single-record transactions (begin,
 * send, commit): what a lone writer waits for through the guard, as a multiple of what Kafka's own transaction
 * costs. The two alternate in short rounds so that both see the same machine (it is noisy); the p50 of each over all
 * rounds makes the ratio. Target (issue 13): at most 1.3.
 */

export async function singleAppendPhase(run: GuardRun): Promise<void> {
  const { options, config, kafka } = run;
  const rounds = 5;
  const roundMs = Math.max(1_000, Math.floor(options.durationMs / rounds));
  const catalog = await openEventCatalog({ registryUrl: config.SCHEMA_REGISTRY_URL, dir: config.KES_SCHEMAS_DIR });
  const topic = `${run.rawTopic}.single`;
  await ensureTopic(kafka, topic, run.partitions, config.KES_TOPIC_REPLICATION);
  const guarded: number[] = [];
  const raw: number[] = [];
  const rawCached: number[] = [];
  let rawTransactionsCount = 0;
  let rawCachedCount = 0;
  try {
    for (let round = 1; round <= rounds; round++) {
      progress(
        `single append, round ${round}/${rounds}: 1 guarded client, then 1 raw producer (stock kafkajs), then 1 ` +
          `raw producer keeping its coordinator as the guard's do, ${roundMs} ms each`,
      );
      const client = run.ctx.clients[0] as HttpLoadClient;
      await closedLoop({
        workers: 1,
        op: async () => {
          const { stream, expected } = run.ctx.streams.pick();
          const a = await client.append(stream, expected, [run.ctx.streams.event()]);
          attemptDone(run.ctx, 'single', a);
          return a;
        },
        record: (a, latency) => {
          if (a.outcome.status === 'ok') guarded.push(latency);
        },
        warmupMs: round === 1 ? options.warmupMs : 200,
        durationMs: roundMs,
        window: async () => async () => undefined,
      });
      for (const cached of [false, true]) {
        const r = await rawTransactions({
          kafka,
          catalog,
          topic,
          partitions: run.partitions,
          streams: options.streams,
          producers: 1,
          batch: 1,
          batchSource: 'single',
          transactionalPrefix: `kes-bench-single.${run.id}.${round}.${cached ? 'cached' : 'stock'}`,
          warmupMs: round === 1 ? options.warmupMs : 200,
          durationMs: roundMs,
          cpu: run.ctx.cpu,
          latencies: cached ? rawCached : raw,
          cacheCoordinator: cached,
        });
        if (cached) rawCachedCount += r.transactions;
        else rawTransactionsCount += r.transactions;
      }
    }
  } finally {
    await deleteTopics(kafka, [topic]).catch(() => {});
  }
  const result: SingleAppendResult = {
    rounds,
    guarded: { appends: guarded.length, latency: summarize(guarded) },
    raw: { transactions: rawTransactionsCount, latency: summarize(raw) },
    rawCached: { transactions: rawCachedCount, latency: summarize(rawCached) },
    ratio: Number.NaN,
    ratioCached: Number.NaN,
  };
  result.ratio = result.guarded.latency.p50 / result.raw.latency.p50;
  result.ratioCached = result.guarded.latency.p50 / result.rawCached.latency.p50;
  run.single = result;
  progress(
    `  guarded p50 ${formatNumber(result.guarded.latency.p50, 2)} ms (p99 ${formatNumber(result.guarded.latency.p99, 1)}), ` +
      `raw transaction p50 ${formatNumber(result.raw.latency.p50, 2)} ms (p99 ${formatNumber(result.raw.latency.p99, 1)}): ` +
      `ratio ${formatNumber(result.ratio, 2)}; raw with the guard's cached coordinator p50 ` +
      `${formatNumber(result.rawCached.latency.p50, 2)} ms: ratio ${formatNumber(result.ratioCached, 2)}`,
  );
}
