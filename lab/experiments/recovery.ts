import { join } from 'node:path';
import { Redis } from 'ioredis';
import { logLevel } from 'kafkajs';
import { cleanUpRun } from '../../bench/support/cleanUp.js';
import { round } from '../../bench/support/figures.js';
import { UsageError } from '../../pipeline/errors.js';
import { createKafka } from '../../pipeline/kafka/kafkaClient.js';
import type { GuardProcess } from '../../verify/processes/guardProcess.js';
import { PrivateRedis } from '../../verify/processes/privateRedis.js';
import { checkRun, type RunVerdict } from '../contention/checkRun.js';
import { guardNamespace, labGuardEnv, startGuards, stopGuards } from '../contention/labGuards.js';
import type { Experiment, LabChart, LabContext, LabResult, LabTable } from '../core/experiment.js';
import { positiveList, positiveNumber } from '../core/optionValues.js';
import { type KillOutcome, killUnderLoad } from '../recovery/killUnderLoad.js';
import { PreloadedLog } from '../recovery/preloadedLog.js';
import { parseRebuildLine, type RebuildLine, recoveryReading } from '../recovery/recoveryFigures.js';
import { WatchedHistory } from '../recovery/watchedHistory.js';
import { type WipeOutcome, wipeUnderLoad } from '../recovery/wipeUnderLoad.js';

const NAME = 'recovery';
const PARTITIONS = 4;

interface WipeRow {
  preloaded: number;
  outcome: WipeOutcome;
}

/**
 * Two faults a guard recovers from, measured by the clients writing through it: Redis wiped under load (the guards
 * answer 503 until one has read the whole log back, so the window grows with the log) and a guard killed -9 (its
 * reservations lock their streams until the lease runs out). Everything runs on a Redis and guards of the
 * experiment's own; the shared Kafka holds the run's topics under a prefix of its own, deleted afterwards.
 */
export const recovery: Experiment = {
  name: NAME,
  title: 'Recovery: Redis wiped under load, a guard killed',
  summary:
    'Redis wiped under load (seconds of 503s against log size) and a guard killed (stall against the lease length)',
  options: [
    {
      name: 'log-events',
      description: 'events pre-loaded in the log before each wipe, one point each (the log grows from one to the next)',
      full: '1000,10000,100000',
      quick: '1000,10000',
    },
    {
      name: 'leases',
      description: 'reservation and slot lease lengths (ms) for the guard kills, one point each',
      full: '2000,5000,10000',
      quick: '2000,5000',
    },
    { name: 'seconds', description: 'seconds of load before each fault', full: '4', quick: '2' },
  ],
  check: (option) => {
    recoveryOptions(option);
  },
  run: runRecovery,
};

function recoveryOptions(option: (name: string) => string): { sizes: number[]; leases: number[]; loadMs: number } {
  const sizes = positiveList(NAME, 'log-events', option('log-events'), 10_000_000);
  const leases = positiveList(NAME, 'leases', option('leases'), 120_000);
  const short = leases.find((lease) => lease < 500);
  if (short !== undefined)
    throw new UsageError(
      `lab ${NAME} --leases: ${short} ms is shorter than the 500 ms the guard accepts (KES_GUARD_LEASE_MS)`,
      { option: 'leases' },
    );
  return { sizes, leases, loadMs: positiveNumber(NAME, 'seconds', option('seconds')) * 1000 };
}

async function runRecovery(ctx: LabContext): Promise<LabResult> {
  const { sizes, leases, loadMs } = recoveryOptions(ctx.option);
  const total = sizes.length + leases.length + 1;
  const ns = guardNamespace('lab_recovery');
  const kafka = createKafka(ctx.config, `kes-lab-${NAME}`, { logLevel: logLevel.NOTHING });
  const redis = new PrivateRedis();
  const history = new WatchedHistory(join(ctx.dir, 'history.jsonl'));
  const log = new PreloadedLog(ctx.config, ns.topicPrefix, 'preload', PARTITIONS, 1_000, `${ns.namespace}.preload`);
  const wipes: WipeRow[] = [];
  const kills: KillOutcome[] = [];
  let guards: GuardProcess[] = [];
  let verdict: RunVerdict;
  // Sees the reservations a guard holds, so that it is killed holding some (killHoldingReservation.ts).
  let probe: Redis | undefined;
  try {
    await redis.start({ aof: true });
    const leaseEnv = (leaseMs: number) =>
      labGuardEnv(ctx.config, ns, {
        redisUrl: redis.url,
        settings: {
          KES_TOPIC_PARTITIONS: String(PARTITIONS),
          KES_GUARD_RESERVATION_MS: String(leaseMs),
          KES_GUARD_LEASE_MS: String(leaseMs),
        },
      });

    // Part A: the log grows to each size, then Redis is wiped under load. The guards run with the first lease, so
    // that the first kill of part B needs no guards of its own (starting two costs seconds on a busy machine).
    ctx.progress.step(`pre-loading ${sizes[0]} events, starting 2 guards on a private Redis (${redis.url})`, 0, total);
    await log.growTo(sizes[0] as number);
    guards = await startGuards(2, leaseEnv(leases[0] as number));
    const rebuilds: RebuildLine[] = [];
    for (const g of guards)
      g.onLine((line) => {
        const r = parseRebuildLine(line);
        if (r) rebuilds.push(r);
      });
    for (const [i, size] of sizes.entries()) {
      ctx.progress.step(`log of ${size} pre-loaded events: load, wipe Redis, wait for writes again`, i, total);
      await log.growTo(size);
      const outcome = await wipeUnderLoad({
        redis,
        guards,
        history,
        rebuilds,
        loadMs,
        category: 'load',
        // Reading back runs at 15,000-70,000 events/s (docs/guard.md); a minute beyond the slowest of those.
        timeoutMs: 60_000 + size / 10,
      });
      wipes.push({ preloaded: log.events, outcome });
      ctx.progress.note(
        `${log.events} pre-loaded: 503s for ${(outcome.window.windowMs / 1000).toFixed(2)} s (${outcome.window.refused} refused), ` +
          `rebuild ${outcome.rebuild ? `${outcome.rebuild.eventsApplied} events in ${outcome.rebuild.ms} ms` : 'not logged'}`,
      );
    }

    // Part B: one guard of two killed under load, for each lease length.
    probe = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    probe.on('error', () => {});
    for (const [i, leaseMs] of leases.entries()) {
      if (i > 0) guards = await startGuards(2, leaseEnv(leaseMs), `guard (lease ${leaseMs} ms)`);
      ctx.progress.step(`lease ${leaseMs} ms: load on 2 guards, kill -9 one`, sizes.length + i, total);
      const outcome = await killUnderLoad({
        guards: guards as [GuardProcess, GuardProcess],
        leaseMs,
        loadMs,
        history,
        category: `lease${leaseMs}`,
        redis: probe,
        redisPrefix: ns.redisPrefix,
      });
      kills.push(outcome);
      await stopGuards(guards);
      guards = [];
      ctx.progress.note(
        `lease ${leaseMs} ms: worst stream stalled ${outcome.after.worstGapMs} ms (before the kill ${outcome.before.worstGapMs} ms), ` +
          `${outcome.after.streamsOver} of ${outcome.after.streams} streams over half the lease, ${outcome.resolves} reservation(s) resolved`,
      );
    }

    await history.close();
    ctx.progress.step('history checker over the run', total - 1, total);
    verdict = await checkRun({
      kafka,
      historyPath: history.path,
      topicPrefix: ns.topicPrefix,
      preloaded: (s) => log.holds(s),
    });
    ctx.progress.note(
      `checker: ${verdict.attempts} attempts, ${verdict.committedEvents} committed events, ${verdict.violations.length} violations`,
    );
  } finally {
    probe?.disconnect();
    await history.close().catch(() => {});
    await stopGuards(guards);
    const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    client.on('error', () => {});
    await cleanUpRun({ kafka, topicPrefix: ns.topicPrefix, redis: client, redisPrefix: ns.redisPrefix }).catch(
      (e: unknown) => ctx.progress.note(`clean-up incomplete: ${e instanceof Error ? e.message : String(e)}`),
    );
    client.disconnect();
    await redis.stop().catch(() => {});
  }

  const wipeFigures = wipes.map((w) => ({
    logEvents: w.outcome.rebuild?.eventsApplied ?? w.preloaded,
    windowMs: w.outcome.window.windowMs,
    refused: w.outcome.window.refused,
  }));
  return {
    settings: {
      'log-events': sizes.join(','),
      leases: leases.join(','),
      secondsOfLoadBeforeEachFault: loadMs / 1000,
      guards: 2,
      'topic partitions': PARTITIONS,
      'pre-loaded streams': 1_000,
      'wipe load': '16 clients, 40 streams, 1-3 events per append, 30 tries per append',
      'kill load': '8 streams, 2 read-decide-append writers of its own each, 1 event per append',
      'wiped means': 'Redis killed -9, its AOF and RDB removed, started empty',
      'lease during the wipes (ms)': leases[0] as number,
      'attempts checked': verdict.attempts,
      'committed events checked': verdict.committedEvents,
      'pre-loaded events left out of the unlogged check': verdict.excludedUnlogged,
      violations: verdict.violations.length,
    },
    tables: [wipeTable(wipes), killTable(kills), checkTable(verdict)],
    charts: charts(wipeFigures, kills),
    reading: recoveryReading(
      wipeFigures,
      kills.map((k) => ({
        leaseMs: k.leaseMs,
        stallMs: k.after.worstGapMs,
        beforeMs: k.before.worstGapMs,
        resolves: k.resolves,
        streamsStalled: k.after.streamsOver,
        streams: k.after.streams,
      })),
      verdict.violations.length,
    ),
    notes: [
      'The 503 window runs from the first 503 a client was answered after the wipe to the first append written that was sent after it. Clients retry a 503 with backoff doubling from 25 ms to 1 s, so the window is known to within a few hundred ms.',
      'Events in the log: what the rebuilding guard says it read back (its "guard state rebuilt" line); the pre-load plus what the load had written by then. The log grows from one point to the next: each wipe reads all of it.',
      'There are no partitions to take over: a guard\'s writers hold slots (transactional ids) of their own, and what a dead guard leaves is its reservations on streams, which lock them until they expire and the survivor resolves them. So a "lease" here sets both KES_GUARD_RESERVATION_MS (what the stall follows) and KES_GUARD_LEASE_MS (the slot lease), and the stall is the longest gap between written appends on one stream after the kill, worst stream shown.',
      'A kill stalls only the streams the dead guard held a reservation on at that instant, and a kill at a fixed time lands between appends as often as inside one. So the guard is stopped (SIGSTOP) until Redis shows it holding a reservation (the other guard\'s appends given 300 ms to settle first), then killed -9; the stall is counted from the stop. "streams locked at the kill" says what it held.',
      'The pre-loaded events were written by a producer, not by logged appends: only the "unlogged" check is left out for those streams; every other check covers them too.',
    ],
  };
}

function wipeTable(wipes: readonly WipeRow[]): LabTable {
  return {
    name: 'redis-wiped',
    title: 'Redis wiped under load: seconds of 503s against the log',
    columns: [
      'pre-loaded events',
      'events read back',
      'rebuild (guard) s',
      '503 window s',
      'appends refused (503)',
      'wipe to first write s',
      'longest gap s',
      'appends written',
    ],
    rows: wipes.map((w) => [
      w.preloaded,
      w.outcome.rebuild?.eventsApplied ?? null,
      w.outcome.rebuild ? round(w.outcome.rebuild.ms / 1000, 2) : null,
      round(w.outcome.window.windowMs / 1000, 2),
      w.outcome.window.refused,
      round(w.outcome.window.faultToRecoveredMs / 1000, 2),
      round(w.outcome.longestGapMs / 1000, 2),
      w.outcome.written,
    ]),
  };
}

function killTable(kills: readonly KillOutcome[]): LabTable {
  return {
    name: 'guard-killed',
    title: 'A guard killed -9 under load: stall against the lease',
    columns: [
      'lease ms',
      'stall ms (worst stream)',
      'stall / lease',
      'streams stalled over half the lease',
      'streams',
      'worst gap before the kill ms',
      'gap on every stream at once ms',
      'streams locked at the kill',
      'reservations resolved',
      'appends written',
    ],
    rows: kills.map((k) => [
      k.leaseMs,
      k.after.worstGapMs,
      round(k.after.worstGapMs / k.leaseMs, 2),
      k.after.streamsOver,
      k.after.streams,
      k.before.worstGapMs,
      k.anyStreamGapMs,
      k.locksHeld,
      k.resolves,
      k.written,
    ]),
  };
}

function checkTable(verdict: RunVerdict): LabTable {
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

function charts(wipes: readonly { logEvents: number; windowMs: number }[], kills: readonly KillOutcome[]): LabChart[] {
  const out: LabChart[] = [];
  if (wipes.length > 0)
    out.push({
      name: 'wipe-503s',
      title: 'Seconds of 503s after Redis was wiped, against the log',
      kind: 'line',
      x: { label: 'events in the log', log: true },
      y: { label: 's of 503s' },
      series: [{ name: '503 window', points: wipes.map((w) => [w.logEvents, round(w.windowMs / 1000, 2)]) }],
    });
  if (kills.length > 0)
    out.push({
      name: 'kill-stall',
      title: 'Stall after a guard was killed, against the lease',
      kind: 'line',
      x: { label: 'lease (s)' },
      y: { label: 'stall (s)' },
      series: [
        {
          name: 'stall, worst stream',
          points: kills.map((k) => [k.leaseMs / 1000, round(k.after.worstGapMs / 1000, 2)]),
        },
        { name: 'before the kill', points: kills.map((k) => [k.leaseMs / 1000, round(k.before.worstGapMs / 1000, 2)]) },
        { name: 'y = x (the lease)', points: kills.map((k) => [k.leaseMs / 1000, k.leaseMs / 1000]) },
      ],
    });
  return out;
}
