import { Command, Option } from 'commander';
import { positive } from '../support/figures.js';
import { listFlag, noiseOptions, noiseSettings, phasesOption, secondsFlag } from '../support/flags.js';
import type { NoiseSettings } from '../support/quiet.js';

export const PHASES = ['guarded', 'http-floor', 'raw-kafka', 'open-loop', 'batched', 'atomic', 'single'] as const;

export interface Options extends NoiseSettings {
  durationMs: number;
  warmupMs: number;
  streams: number;
  clients: number[];
  guards: number;
  format: 'table' | 'json';
  check: boolean;
  /** --phases less the phases a --skip-… flag drops. */
  phases: string;
  skipped: string[];
  rawBatches: ('max' | 'guard' | number)[];
  pool: number;
  openRate: number | undefined;
  profile: boolean;
  keep: boolean;
  jsonOut: string | undefined;
  /** Closed-loop writers of the batched phase (through the coalescing client). */
  batchedClients: number;
  /** Streams per atomic batch, and writers, of the atomic phase. */
  atomicSize: number;
  atomicClients: number;
}

export function parseFlags(argv: readonly string[]): Options {
  const program = new Command('bench:guard')
    .description('guarded appends/s and latency vs the raw Kafka ceiling (docs/guard-benchmark.md)')
    .option('--duration <s>', 'measured seconds per phase', '10')
    .option('--warmup <s>', 'unmeasured seconds before each phase', '2')
    .option('--streams <n>', 'streams account-0 … account-<n-1>', '10000')
    .option('--clients <list>', 'closed-loop client counts, one phase each', '1,16,256')
    .option('--guards <n>', 'guard processes (clients are spread over them)', '1')
    .addOption(new Option('--format <format>', 'output').choices(['table', 'json']).default('table'))
    .option('--check', 'log every attempt and run the history checker at the end', false)
    .option('--skip-raw', 'skip the raw Kafka ceiling (phase raw-kafka)', false)
    .option('--skip-open-loop', 'skip the half-peak open-loop phase (open-loop)', false)
    .option('--skip-http-floor', 'skip the HTTP floor (the same load against a server that does nothing)', false)
    .option(
      '--raw-batch <list>',
      "events per raw transaction, one raw phase each: a number, 'max' (KES_GUARD_MAX_BATCH_EVENTS) or 'guard' " +
        '(the mean group commit the guard reached at the most clients); the first is the ceiling',
      'max,guard',
    )
    .option('--open-rate <n>', 'appends/s of the open-loop phase (default: half the best closed-loop rate)')
    .option('--pool <n>', 'in-flight requests at most in the half-peak open-loop phase', '256')
    .option('--profile', 'run the guards under node --cpu-prof (profiles in the run directory)', false)
    .option('--keep', "keep the run's topics and Redis keys (default: deleted at the end)", false)
    .option('--batched-clients <n>', 'closed-loop writers of the batched phase (coalescing client)', '256')
    .option('--atomic-size <n>', 'streams per atomic batch in the atomic phase', '10')
    .option('--atomic-clients <n>', 'closed-loop writers of the atomic phase, one atomic batch each at a time', '32')
    .option('--json-out <file>', 'also write the JSON figures to this file (whatever --format says)');
  noiseOptions(
    program,
    {
      quiet:
        'before each phase, wait (up to --quiet-wait s) until the idle machine uses less CPU than this, % of one core',
      quietWait: 'longest wait for a quiet machine before a phase (0: do not wait)',
      maxNoise: 'measure a phase again when other processes took more CPU than this',
      tries: 'attempts at most per phase (the least disturbed one is kept)',
    },
    '120',
  );
  phasesOption(program, PHASES).parse([...argv]);
  const f = program.opts<
    Record<string, string | boolean | undefined> & Record<'quiet' | 'quietWait' | 'maxNoise' | 'tries', string>
  >();
  const str = (k: string) => String(f[k]);
  return {
    ...noiseSettings(f),
    durationMs: positive('--duration', str('duration'), false) * 1000,
    warmupMs: secondsFlag('--warmup', str('warmup')),
    streams: positive('--streams', str('streams')),
    clients: listFlag('--clients', str('clients')),
    guards: positive('--guards', str('guards')),
    format: f.format === 'json' ? 'json' : 'table',
    check: f.check === true,
    phases: str('phases'),
    skipped: [
      ...(f.skipRaw === true ? ['raw-kafka'] : []),
      ...(f.skipHttpFloor === true ? ['http-floor'] : []),
      ...(f.skipOpenLoop === true ? ['open-loop'] : []),
    ],
    rawBatches: str('rawBatch')
      .split(',')
      .map((b) => {
        const t = b.trim();
        return t === 'max' || t === 'guard' ? t : positive('--raw-batch', t);
      }),
    pool: positive('--pool', str('pool')),
    openRate: f.openRate === undefined ? undefined : positive('--open-rate', str('openRate'), false),
    profile: f.profile === true,
    keep: f.keep === true,
    jsonOut: f.jsonOut === undefined ? undefined : str('jsonOut'),
    batchedClients: positive('--batched-clients', str('batchedClients')),
    atomicSize: positive('--atomic-size', str('atomicSize')),
    atomicClients: positive('--atomic-clients', str('atomicClients')),
  };
}
