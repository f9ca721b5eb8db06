import { logLevel } from 'kafkajs';
import { deleteRedisKeys } from '../../bench/support/cleanUp.js';
import { deleteTopics, ensureTopic } from '../../bench/support/kafkaAdmin.js';
import { addressesFromConfig, addressesToEnv } from '../../devstack/types.js';
import { GuardClient } from '../../guard/client/guardClient.js';
import { LOCAL_DEV_KEY } from '../../pipeline/config/config.js';
import { createKafka } from '../../pipeline/kafka/kafkaClient.js';
import { createRedis } from '../../pipeline/redis/redisClient.js';
import { checkHistory } from '../../verify/history/checkHistory.js';
import type { AppendAttempt } from '../../verify/history/history.js';
import { readCommittedEvents } from '../../verify/history/topicContents.js';
import { freePort } from '../../verify/processes/freePort.js';
import { GuardProcess } from '../../verify/processes/guardProcess.js';
import { uniqueName } from '../../verify/processes/names.js';
import type { Experiment, LabContext, LabResult } from '../core/experiment.js';
import { positiveList, positiveNumber } from '../core/optionValues.js';
import { type Anomalies, countAnomalies } from '../lostUpdates/anomalies.js';
import { guardedIncrement, type Known } from '../lostUpdates/guardedWriters.js';
import { RawKafkaView, rawIncrement } from '../lostUpdates/rawKafkaWriters.js';

type Path = 'raw Kafka' | 'guard';

interface Point extends Anomalies {
  path: Path;
  writers: number;
  streams: string[];
  seconds: number;
  conflicts: number;
}

/** Runs `writers` loops for `seconds`, each picking one of `streams` at random for every increment. */
async function drive(
  ctx: LabContext,
  writers: number,
  streams: readonly string[],
  seconds: number,
  increment: (writer: number, stream: string) => Promise<number>,
): Promise<{ acknowledged: number; conflicts: number; seconds: number }> {
  const began = Date.now();
  const until = began + seconds * 1000;
  let acknowledged = 0;
  let conflicts = 0;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      while (Date.now() < until) {
        const stream = streams[Math.floor(ctx.random() * streams.length)] as string;
        conflicts += await increment(w, stream);
        acknowledged++;
      }
    }),
  );
  return { acknowledged, conflicts, seconds: (Date.now() - began) / 1000 };
}

export const lostUpdates: Experiment = {
  name: 'lost-updates',
  title: 'Lost updates: read-decide-append on hot streams, raw Kafka against the guard',
  summary:
    'many writers read a stream, decide, append: lost updates, duplicate versions and gaps, with and without the guard',
  options: [
    { name: 'writers', description: 'concurrent writers, one point each', full: '1,2,4,8,16,32', quick: '2,8,32' },
    { name: 'streams', description: 'hot streams the writers share', full: '4', quick: '2' },
    { name: 'seconds', description: 'seconds of writing per point and path', full: '6', quick: '3' },
  ],

  check: (option) => {
    lostUpdatesOptions(option);
  },

  async run(ctx): Promise<LabResult> {
    const { writerCounts, streamCount, seconds } = lostUpdatesOptions(ctx.option);
    const ns = uniqueName('lab_lost');
    const rawPrefix = `${ns}.raw.`;
    const guardPrefix = `${ns}.guard.`;
    const rawTopic = `${rawPrefix}account`;
    // kafkajs' own log (a coordinator still electing itself for the new group) is noise in a report's progress
    const kafka = createKafka(ctx.config, ns, { logLevel: logLevel.NOTHING });
    const redis = createRedis(ctx.config, { maxRetriesPerRequest: 1 });
    const guard = new GuardProcess('lab guard', await freePort(), {
      KES_HOME: ctx.config.KES_HOME,
      ...addressesToEnv(addressesFromConfig(ctx.config)),
      KES_SCHEMAS_DIR: ctx.config.KES_SCHEMAS_DIR,
      KES_TOPIC_PREFIX: guardPrefix,
      KES_REDIS_PREFIX: `${ns}:`,
    });
    let view: RawKafkaView | undefined;
    try {
      const total = writerCounts.length * 2 + 2;
      let done = 0;
      ctx.progress.step("starting a guard and the raw writers' topic", done, total);
      await ensureTopic(kafka, rawTopic, ctx.config.KES_TOPIC_PARTITIONS, ctx.config.KES_TOPIC_REPLICATION);
      await guard.start();
      view = await RawKafkaView.open(kafka, rawTopic, `${ns}.view`);
      const client = new GuardClient({ url: [guard.url], apiKey: LOCAL_DEV_KEY, coalesce: false });
      done++;
      const history: AppendAttempt[] = [];
      const runs: (Omit<Point, keyof Anomalies> & { acknowledged: number })[] = [];
      const rawView = view;
      for (const writers of writerCounts) {
        const streams = Array.from({ length: streamCount }, (_, i) => `account-w${writers}s${i}`);
        ctx.progress.step(`raw Kafka, ${writers} writer(s) on ${streamCount} stream(s)`, done++, total);
        const raw = await drive(ctx, writers, streams, seconds, async (w, stream) => {
          history.push(await rawIncrement(rawView, rawTopic, stream, `raw-${writers}-${w}`));
          return 0;
        });
        runs.push({ path: 'raw Kafka', writers, streams, ...raw });
        ctx.progress.note(`raw Kafka, ${writers} writer(s): ${raw.acknowledged} increments acknowledged`);
        ctx.progress.step(`guard, ${writers} writer(s) on ${streamCount} stream(s)`, done++, total);
        const known = Array.from({ length: writers }, () => new Map<string, Known>());
        const guarded = await drive(ctx, writers, streams, seconds, async (w, stream) => {
          const { conflicts } = await guardedIncrement(
            client,
            stream,
            known[w] as Map<string, Known>,
            `guard-${writers}-${w}`,
            history,
          );
          return conflicts;
        });
        runs.push({ path: 'guard', writers, streams, ...guarded });
        ctx.progress.note(
          `guard, ${writers} writer(s): ${guarded.acknowledged} acknowledged, ${guarded.conflicts} conflicts`,
        );
      }
      ctx.progress.step('reading both logs back and running the history checker', done++, total);
      const committed = [
        ...(await readCommittedEvents(kafka, { topicPrefix: rawPrefix })),
        ...(await readCommittedEvents(kafka, { topicPrefix: guardPrefix })),
      ];
      const points: Point[] = runs.map((run) => {
        const topic = run.path === 'guard' ? `${guardPrefix}account` : rawTopic;
        const mine = new Set(run.streams);
        const events = committed.filter((e) => e.topic === topic && mine.has(e.stream));
        const attempts = history.filter(
          (a) => mine.has(a.stream) && a.client.startsWith(run.path === 'guard' ? 'guard-' : 'raw-'),
        );
        const { violations } = checkHistory(attempts, events);
        return { ...run, ...countAnomalies(run.acknowledged, events, violations) };
      });
      ctx.progress.step('done', total, total);
      return result(points, {
        writers: writerCounts.join(','),
        streams: streamCount,
        seconds,
        partitions: ctx.config.KES_TOPIC_PARTITIONS,
      });
    } finally {
      await view?.close();
      await guard.stop().catch(() => {});
      await deleteTopics(kafka, [rawTopic, `${guardPrefix}account`]).catch(() => {});
      await deleteRedisKeys(redis, `${ns}:`).catch(() => {});
      redis.disconnect();
    }
  },
};

const per1000 = (n: number, of: number) => (of > 0 ? Math.round((n * 10_000) / of) / 10 : 0);

function result(points: Point[], settings: LabResult['settings']): LabResult {
  const series = (path: Path, value: (p: Point) => number) => ({
    name: path,
    points: points.filter((p) => p.path === path).map((p): [number, number] => [p.writers, value(p)]),
  });
  const raw = points.filter((p) => p.path === 'raw Kafka');
  const guarded = points.filter((p) => p.path === 'guard');
  const sum = (ps: Point[], f: (p: Point) => number) => ps.reduce((a, p) => a + f(p), 0);
  const worst = raw.reduce<Point | undefined>((a, p) => (!a || p.lostUpdates > a.lostUpdates ? p : a), undefined);
  const guardAnomalies = sum(guarded, (p) => p.lostUpdates + p.violations);
  const reading =
    `Without the guard, ${sum(raw, (p) => p.acknowledged).toLocaleString('en-US')} acknowledged increments left ` +
    `${sum(raw, (p) => p.lostUpdates).toLocaleString('en-US')} lost updates, ` +
    `${sum(raw, (p) => p.duplicateVersions).toLocaleString('en-US')} duplicate versions and ${sum(raw, (p) => p.gaps)} gaps` +
    (worst
      ? `; the worst point, ${worst.writers} writers, lost ${per1000(worst.lostUpdates, worst.acknowledged)} of every 1,000 increments`
      : '') +
    `, although every writer read the partition to its end before deciding: the window between the read and the append is enough. ` +
    `Through the guard, ${sum(guarded, (p) => p.acknowledged).toLocaleString('en-US')} increments were acknowledged with ` +
    `${guardAnomalies === 0 ? 'no lost update and no checker violation' : `${guardAnomalies} anomalies (a bug: report it)`}; ` +
    `the price is ${sum(guarded, (p) => p.conflicts).toLocaleString('en-US')} conflicts that writers resolved by reading again and deciding again.`;
  return {
    settings,
    reading,
    notes: [
      "Kafka itself lost nothing: every raw event is in the log. What is lost is the decision: two writers read the same state, and the later event overwrites the earlier one's effect on the balance each event states.",
      'Counted by the history checker (kes check) over the committed log: duplicate versions, gaps and versions out of order are invariant 1 violations.',
    ],
    tables: [
      {
        name: 'points',
        title: 'Each path and writer count',
        columns: [
          'path',
          'writers',
          'seconds',
          'acknowledged',
          'appends/s',
          'conflicts',
          'lost updates',
          'lost per 1,000',
          'duplicate versions',
          'gaps',
          'out of order',
          'checker violations',
        ],
        rows: points.map((p) => [
          p.path,
          p.writers,
          Math.round(p.seconds * 10) / 10,
          p.acknowledged,
          Math.round(p.acknowledged / p.seconds),
          p.conflicts,
          p.lostUpdates,
          per1000(p.lostUpdates, p.acknowledged),
          p.duplicateVersions,
          p.gaps,
          p.outOfOrder,
          p.violations,
        ]),
      },
    ],
    charts: [
      {
        name: 'lost-updates',
        title: 'Lost updates per 1,000 acknowledged increments',
        kind: 'line',
        x: { label: 'writers', log: true },
        y: { label: 'lost per 1,000' },
        series: [
          series('raw Kafka', (p) => per1000(p.lostUpdates, p.acknowledged)),
          series('guard', (p) => per1000(p.lostUpdates, p.acknowledged)),
        ],
      },
      {
        name: 'violations',
        title: 'History checker violations (duplicate versions, gaps)',
        kind: 'bar',
        x: { label: 'writers', categories: true },
        y: { label: 'violations' },
        series: [series('raw Kafka', (p) => p.violations), series('guard', (p) => p.violations)],
      },
      {
        name: 'throughput',
        title: 'Acknowledged increments per second',
        kind: 'line',
        x: { label: 'writers', log: true },
        y: { label: 'increments/s' },
        series: [
          series('raw Kafka', (p) => p.acknowledged / p.seconds),
          series('guard', (p) => p.acknowledged / p.seconds),
        ],
      },
    ],
  };
}

function lostUpdatesOptions(option: (name: string) => string) {
  return {
    writerCounts: positiveList('lost-updates', 'writers', option('writers'), 512),
    streamCount: positiveNumber('lost-updates', 'streams', option('streams'), true),
    seconds: positiveNumber('lost-updates', 'seconds', option('seconds')),
  };
}
