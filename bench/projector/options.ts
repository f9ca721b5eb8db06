import { cpus } from 'node:os';
import { Command } from 'commander';
import { positive } from '../support/figures.js';
import { noiseOptions, noiseSettings, phasesOption, secondsFlag } from '../support/flags.js';
import type { NoiseSettings } from '../support/quiet.js';

/** preload fills the topic that raw and clickhouse consume; freshness has a topic of its own. */
export const PHASES = ['preload', 'raw', 'clickhouse', 'freshness'] as const;

export interface Options extends NoiseSettings {
  events: number;
  /** Projector instances in the clickhouse phase, one consumer group (they share this process). */
  projectors: number;
  partitions: number;
  streams: number;
  producers: number;
  txEvents: number;
  preloadThreads: number;
  freshnessSeconds: number;
  warmupSeconds: number;
  rate: number | undefined;
  peakSeconds: number;
  peakClients: number;
  pool: number;
  json: boolean;
  keep: boolean;
  profile: boolean;
  sharedEngine: boolean;
  phases: string;
  /** --phases less the phases a --skip-… flag drops. */
  skipped: string[];
}

export function parseFlags(argv: readonly string[]): Options {
  const program = new Command('bench:projector')
    .description('raw consume + decode vs projector into ClickHouse, and freshness under guarded load')
    .option('--events <n>', 'committed events in the pre-loaded topic', '1000000')
    .option('--partitions <n>', 'partitions of the pre-loaded topic', '12')
    .option('--streams <n>', 'streams the pre-loaded events are spread over', '10000')
    .option('--producers <n>', 'transactional producers of the pre-load (each owns a share of the partitions)', '4')
    .option('--tx-events <n>', 'events per pre-load transaction', '10000')
    .option(
      '--preload-threads <n>',
      'worker threads sharing the pre-load producers',
      String(Math.min(2, cpus().length)),
    )
    .option(
      '--projectors <n>',
      'projectors (one consumer group, in this process) in the clickhouse phase: how the group splits the partitions',
      '1',
    )
    .option('--skip-freshness', 'skip the freshness phase (no guard)', false)
    .option('--freshness-seconds <s>', 'measured seconds of guarded load in the freshness phase', '30')
    .option('--warmup <s>', 'unmeasured seconds of load before the freshness window', '5')
    .option('--rate <n>', 'appends/s of the freshness load (default: half the peak measured first)')
    .option('--peak-seconds <s>', 'measured seconds of the short closed-loop peak measurement', '5')
    .option('--peak-clients <n>', 'closed-loop clients of the peak measurement', '256')
    .option('--pool <n>', 'in-flight appends at most in the open-loop freshness load', '256')
    .option('--json', 'print one JSON object on stdout instead of tables', false)
    .option('--keep', "keep the run's topics, groups, Redis keys and databases", false)
    .option(
      '--profile',
      'CPU-profile this process during the raw and clickhouse phases (files in the run directory)',
      false,
    )
    .option(
      '--shared-engine',
      'use the stack embedded ClickHouse data path (default: a private embedded data path in the run directory; ' +
        'a ClickHouse server from CLICKHOUSE_URL is always used as is)',
      false,
    );
  noiseOptions(
    program,
    {
      quiet:
        'before the raw, clickhouse and freshness phases, wait until the idle machine uses less CPU (% of one core)',
      quietWait: 'longest wait for a quiet machine (0: do not wait)',
      maxNoise: 'measure the raw or clickhouse phase again when other processes took more CPU than this',
      tries: 'attempts at most per phase (the least disturbed one is kept)',
    },
    '60',
  );
  phasesOption(program, PHASES).parse([...argv]);
  const f = program.opts<
    Record<string, string | boolean | undefined> & Record<'quiet' | 'quietWait' | 'maxNoise' | 'tries', string>
  >();
  const str = (k: string) => String(f[k]);
  const producers = positive('--producers', str('producers'));
  const partitions = positive('--partitions', str('partitions'));
  return {
    ...noiseSettings(f),
    events: positive('--events', str('events')),
    projectors: positive('--projectors', str('projectors')),
    partitions,
    streams: positive('--streams', str('streams')),
    producers: Math.min(producers, partitions),
    txEvents: positive('--tx-events', str('txEvents')),
    preloadThreads: positive('--preload-threads', str('preloadThreads')),
    freshnessSeconds: positive('--freshness-seconds', str('freshnessSeconds'), false),
    warmupSeconds: secondsFlag('--warmup', str('warmup')) / 1000,
    rate: f.rate === undefined ? undefined : positive('--rate', str('rate'), false),
    peakSeconds: positive('--peak-seconds', str('peakSeconds'), false),
    peakClients: positive('--peak-clients', str('peakClients')),
    pool: positive('--pool', str('pool')),
    json: f.json === true,
    keep: f.keep === true,
    profile: f.profile === true,
    sharedEngine: f.sharedEngine === true,
    phases: str('phases'),
    skipped: f.skipFreshness === true ? ['freshness'] : [],
  };
}
