import { describe, expect, it } from 'vitest';
import { UsageError } from '../../pipeline/errors.js';
import { positiveList, positiveNumber } from './optionValues.js';

describe('lab option values', () => {
  it('reads lists sorted, without repeats', () => {
    expect(positiveList('contention', 'writers', '8, 1,64,8')).toEqual([1, 8, 64]);
  });

  it('refuses empty lists, fractions, zero, words and values past the bound, naming the flag', () => {
    for (const bad of ['', ' , ', '1,2.5', '0', 'two'])
      expect(() => positiveList('contention', 'writers', bad)).toThrow(UsageError);
    expect(() => positiveList('contention', 'guards', '1,9', 8)).toThrow(/--guards: 9 is more than 8/);
    expect(() => positiveList('contention', 'writers', 'x')).toThrow(/lab contention --writers/);
  });

  it('reads positive numbers, fractions allowed unless whole ones are asked for', () => {
    expect(positiveNumber('contention', 'seconds', '1.5')).toBe(1.5);
    expect(() => positiveNumber('contention', 'seconds', '1.5', true)).toThrow(UsageError);
    expect(() => positiveNumber('contention', 'seconds', '-1')).toThrow(UsageError);
  });
});
