import { join } from 'node:path';
import { logLevel } from 'kafkajs';
import { cleanUpRun } from '../../bench/support/cleanUp.js';
import { round } from '../../bench/support/figures.js';
import { LOCAL_DEV_KEY } from '../../pipeline/config/config.js';
import { createKafka } from '../../pipeline/kafka/kafkaClient.js';
import { createRedis } from '../../pipeline/redis/redisClient.js';
import { HistoryWriter } from '../../verify/history/history.js';
import { runWorkload } from '../../verify/load/workload.js';
import type { GuardProcess } from '../../verify/processes/guardProcess.js';
import { checkRun, type RunVerdict } from '../contention/checkRun.js';
import { type ContentionRow, contentionReading, contentionRow } from '../contention/contentionFigures.js';
import { runHotStreamWriters } from '../contention/hotStreamWriters.js';
import { guardNamespace, labGuardEnv, startGuards, stopGuards } from '../contention/labGuards.js';
import type { Experiment, LabChart, LabContext, LabResult } from '../core/experiment.js';
import { positiveList, positiveNumber } from '../core/optionValues.js';

const NAME = 'contention';
const CATEGORY = 'hot';

/**
 * One hot stream, 1 to 64 writers doing read-decide-append on it through 1 to 4 guards: what a compare-and-swap
 * event store gives when everybody wants the same stream. The guards are started once, as many as the largest
 * guard count; a point with fewer guards sends to the first of them only.
 */
export const contention: Experiment = {
  name: NAME,
  title: 'Contention: one hot stream, many writers, several guards',
  summary: 'one hot stream, 1 to 64 writers on 1 to 4 guards: successes, conflicts, retries, p99',
  options: [
    {
      name: 'writers',
      description: 'concurrent writers on the stream, one point per count',
      full: '1,2,4,8,16,32,64',
      quick: '1,8,64',
    },
    {
      name: 'guards',
      description: 'guard processes the writers are spread over, one series per count',
      full: '1,2,4',
      quick: '1,2',
    },
    { name: 'seconds', description: 'seconds of writing per point', full: '5', quick: '2' },
  ],
  check: (option) => {
    contentionOptions(option);
  },
  run: runContention,
};

function contentionOptions(option: (name: string) => string) {
  return {
    writerCounts: positiveList(NAME, 'writers', option('writers'), 1_000),
    guardCounts: positiveList(NAME, 'guards', option('guards'), 8),
    durationMs: positiveNumber(NAME, 'seconds', option('seconds')) * 1000,
  };
}

async function runContention(ctx: LabContext): Promise<LabResult> {
  const { writerCounts, guardCounts, durationMs } = contentionOptions(ctx.option);
  const ns = guardNamespace('lab_contention');
  const kafka = createKafka(ctx.config, `kes-lab-${NAME}`, { logLevel: logLevel.NOTHING });
  const historyPath = join(ctx.dir, 'history.jsonl');
  const history = new HistoryWriter(historyPath);
  const maxGuards = guardCounts[guardCounts.length - 1] as number;
  const total = guardCounts.length * writerCounts.length;
  const rows: ContentionRow[] = [];
  let guards: GuardProcess[] = [];
  let verdict: RunVerdict;
  try {
    ctx.progress.step(`starting ${maxGuards} guard(s) under ${ns.topicPrefix}`, 0, total);
    guards = await startGuards(maxGuards, labGuardEnv(ctx.config, ns));
    // The first append creates the category's topic and each guard writer's first transaction is slower: both are
    // paid here, on streams of their own, rather than by the first point.
    await runWorkload({
      urls: guards.map((guard) => guard.url),
      apiKey: LOCAL_DEV_KEY,
      category: CATEGORY,
      streams: 20,
      concurrency: 4 * maxGuards,
      appends: 20 * maxGuards,
      history,
      clientPrefix: 'warmup-',
    });
    for (const g of guardCounts) {
      for (const w of writerCounts) {
        ctx.progress.step(`${w} writer(s) on ${g} guard(s)`, rows.length, total);
        const tally = await runHotStreamWriters({
          urls: guards.slice(0, g).map((guard) => guard.url),
          apiKey: LOCAL_DEV_KEY,
          // A stream of its own per point, so that every point starts from an empty stream.
          stream: `${CATEGORY}-g${g}w${w}`,
          writers: w,
          durationMs,
          history,
          clientPrefix: `g${g}w${w}-`,
        });
        const row = contentionRow(g, w, tally);
        rows.push(row);
        ctx.progress.note(
          `${g} guard(s), ${w} writer(s): ${Math.round(row.successesPerSecond)} ok/s, ${Math.round(row.conflictsPerSecond)} conflicts/s, ` +
            `p99 ${Math.round(row.p99Ms)} ms${tally.failures + tally.abandoned > 0 ? `, ${tally.failures} failed, ${tally.abandoned} abandoned` : ''}`,
        );
      }
    }
    await history.close();
    ctx.progress.step('history checker over the run', total, total);
    verdict = await checkRun({ kafka, historyPath, topicPrefix: ns.topicPrefix });
    ctx.progress.note(
      `checker: ${verdict.attempts} attempts, ${verdict.committedEvents} committed events, ${verdict.violations.length} violations`,
    );
  } finally {
    await history.close().catch(() => {});
    await stopGuards(guards);
    const redis = createRedis(ctx.config, { maxRetriesPerRequest: 1 });
    redis.on('error', () => {});
    await cleanUpRun({ kafka, topicPrefix: ns.topicPrefix, redis, redisPrefix: ns.redisPrefix }).catch((e: unknown) =>
      ctx.progress.note(`clean-up incomplete: ${e instanceof Error ? e.message : String(e)}`),
    );
    redis.disconnect();
  }
  return {
    settings: {
      writers: writerCounts.join(','),
      guards: guardCounts.join(','),
      secondsPerPoint: durationMs / 1000,
      'guard processes started': maxGuards,
      stream: 'one per point, new, in one category topic',
      'expected version': 'the version the writer last saw; on a 409 the actual version it names',
      KES_GUARD_RESERVATION_MS: ctx.config.KES_GUARD_RESERVATION_MS,
      KES_GUARD_PIPELINE: ctx.config.KES_GUARD_PIPELINE,
      'attempts checked': verdict.attempts,
      'committed events checked': verdict.committedEvents,
      violations: verdict.violations.length,
    },
    tables: [pointsTable(rows), violationsTable(verdict)],
    charts: charts(rows, guardCounts),
    reading: contentionReading(rows, verdict.violations.length),
    notes: [
      'A writer that gets 409 wrong_expected_version adopts the actual version the answer names (the read it would make) and decides again with a new event; a success is one logical append, its latency from its first try to the answer that wrote it.',
      "Points with fewer guards than were started send to the first guards only; the others stay idle. Before the first point, a short warm-up on other streams of the category created its topic and each guard writer's first transaction.",
      'Rates are over the measured seconds; an append under way at the end may finish within 3 s more (its latency counts, its success does not). Writers still losing after that are counted as abandoned: the p50 and p99 are of the appends that got through.',
      'Every attempt is in history.jsonl beside this report; the history checker ran over it and everything the run committed.',
    ],
  };
}

function pointsTable(rows: readonly ContentionRow[]) {
  return {
    name: 'points',
    title: 'One hot stream: figures per guard count and writer count',
    columns: [
      'guards',
      'writers',
      'successes/s',
      'conflicts/s',
      'conflict ratio',
      'retries per success',
      'p50 ms',
      'p99 ms',
      'successes',
      'conflicts',
      'failed',
      'abandoned',
    ],
    rows: rows.map((r) => [
      r.guards,
      r.writers,
      round(r.successesPerSecond, 1),
      round(r.conflictsPerSecond, 1),
      round(r.conflictRatio, 3),
      round(r.retriesPerSuccess, 2),
      round(r.p50Ms, 1),
      round(r.p99Ms, 1),
      r.successes,
      r.conflicts,
      r.failures,
      r.abandoned,
    ]),
  };
}

function violationsTable(verdict: RunVerdict) {
  return {
    name: 'check',
    title: `History checker: ${verdict.violations.length} violation(s) over ${verdict.attempts} attempts`,
    columns: ['invariant', 'stream', 'detail'],
    rows:
      verdict.violations.length === 0
        ? [['none', null, `0 violations; ${verdict.committedEvents} committed events checked`]]
        : verdict.violations.map((v) => [String(v.invariant), v.stream ?? null, v.detail]),
  };
}

function charts(rows: readonly ContentionRow[], guardCounts: readonly number[]): LabChart[] {
  const series = (value: (r: ContentionRow) => number) =>
    guardCounts.map((g) => ({
      name: `${g} guard${g === 1 ? '' : 's'}`,
      points: rows
        .filter((r) => r.guards === g)
        .map((r): [number, number | null] => [r.writers, Number.isFinite(value(r)) ? round(value(r), 3) : null]),
    }));
  const x = { label: 'writers on the stream', log: true };
  return [
    {
      name: 'successes',
      title: 'Successful appends/s on one stream',
      kind: 'line',
      x,
      y: { label: 'appends/s' },
      series: series((r) => r.successesPerSecond),
    },
    {
      name: 'conflict-ratio',
      title: 'Share of compare-and-swap tries refused (409)',
      kind: 'line',
      x,
      y: { label: 'conflicts / tries' },
      series: series((r) => r.conflictRatio),
    },
    {
      name: 'p99',
      title: 'p99 of a successful append, retries included',
      kind: 'line',
      x,
      y: { label: 'ms', log: true },
      series: series((r) => r.p99Ms),
    },
  ];
}
