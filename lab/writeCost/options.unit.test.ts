import { describe, expect, it } from 'vitest';
import { UsageError } from '../../pipeline/errors.js';
import { parseWriteCostOptions, WRITE_COST_OPTIONS } from './options.js';

const reader =
  (given: Record<string, string>, quick = false) =>
  (name: string) => {
    const o = WRITE_COST_OPTIONS.find((x) => x.name === name);
    if (!o) throw new Error(name);
    return given[name] ?? (quick ? o.quick : o.full);
  };

describe('parseWriteCostOptions', () => {
  it('reads the full defaults: five writer counts, five paths, 5 s a point', () => {
    const o = parseWriteCostOptions(reader({}));
    expect(o.writers).toEqual([1, 4, 16, 64, 256]);
    expect(o.paths).toEqual(['raw-kafka', 'guard-single', 'guard-batched', 'guard-atomic', 'postgres']);
    expect(o.durationMs).toBe(5000);
  });

  it('sorts and dedupes writers, keeps the paths in their fixed order, takes 0 s of warm-up', () => {
    const o = parseWriteCostOptions(reader({ writers: '16, 1,16', paths: 'postgres,raw-kafka', warmup: '0' }));
    expect(o.writers).toEqual([1, 16]);
    expect(o.paths).toEqual(['raw-kafka', 'postgres']);
    expect(o.warmupMs).toBe(0);
  });

  it('refuses a bad value naming its flag', () => {
    expect(() => parseWriteCostOptions(reader({ writers: '1,x' }))).toThrow(/--writers/);
    expect(() => parseWriteCostOptions(reader({ seconds: '-1' }))).toThrow(UsageError);
    expect(() => parseWriteCostOptions(reader({ paths: 'kafka' }))).toThrow(/--paths: no path 'kafka'/);
    expect(() => parseWriteCostOptions(reader({ 'atomic-size': '2.5' }))).toThrow(/--atomic-size/);
  });
});
