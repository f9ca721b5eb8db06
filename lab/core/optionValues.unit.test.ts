import { describe, expect, it } from 'vitest';
import { UsageError } from '../../pipeline/errors.js';
import { positiveList, positiveNumber } from './optionValues.js';

describe('lab option values', () => {
  it('reads lists sorted, without repeats', () => {
    expect(positiveList('contention', 'writers', '8, 1,64,8')).toEqual([1, 8, 64]);
    expect(positiveList('projection', 'rates', '2.5,1', 10, false)).toEqual([1, 2.5]);
  });

  it.each(['', ' , ', '1,2.5', '0', 'two', '-1'])('refuses %j, naming the experiment and the flag', (bad) => {
    expect(() => positiveList('contention', 'writers', bad)).toThrow(UsageError);
    expect(() => positiveList('contention', 'writers', bad)).toThrow(/^lab contention --writers: /);
  });

  it('refuses values past the bound', () => {
    expect(() => positiveList('contention', 'guards', '1,9', 8)).toThrow(/--guards: 9 is more than 8/);
  });

  it('reads positive numbers, fractions allowed unless whole ones are asked for', () => {
    expect(positiveNumber('contention', 'seconds', '1.5')).toBe(1.5);
    expect(() => positiveNumber('contention', 'seconds', '1.5', true)).toThrow(/expected a positive whole number/);
    expect(() => positiveNumber('contention', 'seconds', '-1')).toThrow(UsageError);
    expect(() => positiveNumber('contention', 'seconds', '')).toThrow(UsageError);
  });
});
