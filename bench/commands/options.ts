import { Command } from 'commander';
import { positive } from '../support/figures.js';
import { listFlag, noiseOptions, noiseSettings, phasesOption, secondsFlag } from '../support/flags.js';
import type { NoiseSettings } from '../support/quiet.js';

export const PHASES = ['distinct-streams', 'hot-stream', 'cold-loads'] as const;

export interface Options extends NoiseSettings {
  durationMs: number;
  warmupMs: number;
  clients: number[];
  hotClients: number;
  streamsPerClient: number;
  samples: number;
  coldSizes: number[];
  filler: number[];
  json: boolean;
  keep: boolean;
  phases: string;
}

export function parseFlags(argv: readonly string[]): Options {
  const program = new Command('bench:commands')
    .description('commands vs raw guarded appends, a hot stream on one and two guards, cold state loads')
    .option('--duration <s>', 'measured seconds per configuration (two halves, run A B C then C B A)', '10')
    .option('--warmup <s>', 'unmeasured seconds before each half', '2')
    .option('--clients <list>', 'closed-loop client counts of the distinct-streams phase', '1,16')
    .option('--hot-clients <n>', 'closed-loop clients all commanding one account in the hot-stream phase', '16')
    .option('--streams-per-client <n>', 'streams each client of the distinct-streams phase cycles through', '10')
    .option('--samples <n>', 'cold and warm commands per stream in the cold-load phase (the median is kept)', '5')
    .option('--cold-sizes <list>', 'events in the streams of the cold-load phase', '10,100,1000')
    .option(
      '--filler <list>',
      'then add events to the cold streams’ partition until it holds this many more, a cold load after each (0: none)',
      '20000,100000',
    )
    .option('--json', 'print one JSON object on stdout instead of tables', false)
    .option('--keep', "keep the run's topic and Redis keys (deleted by default)", false);
  noiseOptions(
    program,
    {
      quiet: 'before each measurement, wait until the idle machine uses less CPU (% of one core)',
      quietWait: 'longest wait for a quiet machine (0: do not wait)',
      maxNoise: 'measure a half again when other processes took more CPU than this',
      tries: 'attempts at most per half (the least disturbed one is kept)',
    },
    '120',
  );
  phasesOption(program, PHASES).parse([...argv]);
  const f = program.opts<
    Record<string, string | boolean> & Record<'quiet' | 'quietWait' | 'maxNoise' | 'tries', string>
  >();
  const s = (k: string) => String(f[k]);
  return {
    ...noiseSettings(f),
    durationMs: positive('--duration', s('duration'), false) * 1000,
    warmupMs: secondsFlag('--warmup', s('warmup')),
    clients: listFlag('--clients', s('clients')),
    hotClients: positive('--hot-clients', s('hotClients')),
    streamsPerClient: positive('--streams-per-client', s('streamsPerClient')),
    samples: positive('--samples', s('samples')),
    coldSizes: listFlag('--cold-sizes', s('coldSizes')),
    filler: s('filler') === '0' ? [] : listFlag('--filler', s('filler')),
    json: f.json === true,
    keep: f.keep === true,
    phases: s('phases'),
  };
}
