/** Number handling the benchmarks share: flag parsing, rounding, table cells, verdict rows. */

export function positive(name: string, value: string, integer = true): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new Error(`${name}: expected a positive ${integer ? 'integer' : 'number'}, got '${value}'`);
  }
  return n;
}

export function round(n: number, digits = 1): number {
  if (!Number.isFinite(n)) return n;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** A table cell: thousands separators, fixed digits, '—' for nothing. */
export function formatNumber(n: number | undefined, digits: number): string {
  if (n === undefined || !Number.isFinite(n)) return '—';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export interface Verdict {
  target: string;
  measured: string;
  result: 'PASS' | 'FAIL' | 'n/a';
}

/** Every field of `o` rounded, for the JSON figures. */
export function roundAll<T extends object>(o: T, digits = 2): Record<keyof T, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, round(Number(v), digits)])) as Record<
    keyof T,
    number
  >;
}
