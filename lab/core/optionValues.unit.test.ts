import { describe, expect, it } from 'vitest';
import { UsageError } from '../../pipeline/errors.js';
import { numberList, numberOption } from './optionValues.js';

describe('lab option values', () => {
  it('reads a list of whole numbers', () => {
    expect(numberList('writers', '1, 4,16', 1, 256)).toEqual([1, 4, 16]);
  });

  it.each(['', '1,,2', '0', '1,300', '2.5', 'x'])('refuses %j, naming the flag', (value) => {
    expect(() => numberList('writers', value, 1, 256)).toThrow(UsageError);
    expect(() => numberList('writers', value, 1, 256)).toThrow(/--writers/);
  });

  it('reads one number in range', () => {
    expect(numberOption('seconds', '2.5', 0.5, 600)).toBe(2.5);
    expect(() => numberOption('seconds', '0', 0.5, 600)).toThrow(/--seconds: expected a number from 0.5 to 600/);
  });
});
