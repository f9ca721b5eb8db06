import { UsageError } from '../../pipeline/errors.js';
import type { LabOption } from '../core/experiment.js';
import { positiveList, positiveNumber } from '../core/optionValues.js';

/** The options of `kes lab write-cost`, with their full and --quick defaults. */
export const WRITE_COST_OPTIONS: LabOption[] = [
  { name: 'writers', description: 'concurrent writers, one point per count', full: '1,4,16,64,256', quick: '1,16,64' },
  { name: 'seconds', description: 'measured seconds per point', full: '5', quick: '1.5' },
  { name: 'warmup', description: 'unmeasured seconds before each point', full: '1', quick: '0.3' },
  { name: 'atomic-size', description: 'streams per atomic batch (path "atomic batches")', full: '10', quick: '10' },
  {
    name: 'paths',
    description: 'paths to run: raw-kafka,guard-single,guard-batched,guard-atomic,postgres',
    full: 'raw-kafka,guard-single,guard-batched,guard-atomic,postgres',
    quick: 'raw-kafka,guard-single,guard-batched,guard-atomic,postgres',
  },
];

export const PATH_IDS = ['raw-kafka', 'guard-single', 'guard-batched', 'guard-atomic', 'postgres'] as const;
export type PathId = (typeof PATH_IDS)[number];

export interface WriteCostOptions {
  writers: number[];
  durationMs: number;
  warmupMs: number;
  atomicSize: number;
  paths: PathId[];
}

/** Reads and checks the options once, before anything starts; a bad value names its flag. */
export function parseWriteCostOptions(option: (name: string) => string): WriteCostOptions {
  const writers = positiveList('write-cost', 'writers', option('writers'));
  const paths = option('paths')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  for (const p of paths)
    if (!(PATH_IDS as readonly string[]).includes(p))
      throw new UsageError(`lab write-cost --paths: no path '${p}' (one of ${PATH_IDS.join(', ')})`, {
        option: 'paths',
      });
  if (paths.length === 0) throw new UsageError('lab write-cost --paths: name at least one path', { option: 'paths' });
  const warmup = option('warmup').trim();
  return {
    writers,
    durationMs: positiveNumber('write-cost', 'seconds', option('seconds')) * 1000,
    warmupMs: warmup === '0' ? 0 : positiveNumber('write-cost', 'warmup', warmup) * 1000,
    atomicSize: positiveNumber('write-cost', 'atomic-size', option('atomic-size'), true),
    // in the order of PATH_IDS whatever order they were given in: the table and charts read the same every run
    paths: PATH_IDS.filter((p) => paths.includes(p)),
  };
}
