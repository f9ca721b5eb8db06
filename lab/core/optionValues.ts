import { UsageError } from '../../pipeline/errors.js';

/** `--<name> 1,4,16`: whole numbers from min to max, at least one; a clear error naming the flag otherwise. */
export function numberList(name: string, value: string, min: number, max: number): number[] {
  const parts = value.split(',').map((p) => p.trim());
  const numbers = parts.map(Number);
  if (
    parts.length === 0 ||
    parts.some((p) => p === '') ||
    numbers.some((n) => !Number.isInteger(n) || n < min || n > max)
  )
    throw new UsageError(`--${name}: expected whole numbers from ${min} to ${max}, comma-separated, got '${value}'`, {
      option: name,
    });
  return numbers;
}

/** `--<name> n`: one number from min to max (fractions allowed where a duration is meant). */
export function numberOption(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max)
    throw new UsageError(`--${name}: expected a number from ${min} to ${max}, got '${value}'`, { option: name });
  return n;
}
