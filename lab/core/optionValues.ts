import { UsageError } from '../../pipeline/errors.js';

/**
 * Reading an experiment's option values (`kes lab <name> --<option> v`). A bad value is a UsageError naming the
 * experiment, the flag and what it got; every experiment reads its options in its `check`, which runLab calls for
 * all of them before any starts.
 */
export function positiveNumber(experiment: string, option: string, value: string, integer = false): number {
  const text = value.trim();
  const n = Number(text);
  if (text === '' || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
    throw new UsageError(
      `lab ${experiment} --${option}: expected a positive ${integer ? 'whole number' : 'number'}, got '${value}'`,
      { experiment, option, value },
    );
  return n;
}

/**
 * A comma-separated list of positive numbers (whole ones unless `integer` is false), up to `max`, without repeats,
 * ascending: one point of a chart each.
 */
export function positiveList(
  experiment: string,
  option: string,
  value: string,
  max = Number.MAX_SAFE_INTEGER,
  integer = true,
): number[] {
  const items = value
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
  if (items.length === 0)
    throw new UsageError(`lab ${experiment} --${option}: give at least one value`, { experiment, option, value });
  const numbers = items.map((x) => positiveNumber(experiment, option, x, integer));
  for (const n of numbers)
    if (n > max)
      throw new UsageError(`lab ${experiment} --${option}: ${n} is more than ${max}`, { experiment, option, value });
  return [...new Set(numbers)].sort((a, b) => a - b);
}
