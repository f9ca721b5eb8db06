import { isCategory } from '../../pipeline/events/streamName.js';
import { ReportOptionError, shown } from './reportErrors.js';

/**
 * The options of reports, parsed and validated strictly before anything runs. Values arrive as text (command-line
 * flags, query parameters) and leave as typed values that are only ever bound as query parameters.
 */
export const optionNames = ['from', 'to', 'category', 'limit', 'by'] as const;
export type OptionName = (typeof optionNames)[number];

/** What a report accepts of an option: its help text, its default, and for `limit` / `by` their bounds. */
export interface OptionSpec {
  readonly name: OptionName;
  readonly description: string;
  /** Shown to users; for `from` a relative time taken back from `to` (or now), like `-60m`. */
  readonly default?: string;
  /** `by`: the valid values. */
  readonly choices?: readonly string[];
  /** `limit`: the largest value. */
  readonly max?: number;
}

/** Validated options. Times are ms since the epoch (UTC); a missing bound is open. */
export interface ReportOptions {
  from?: number;
  to?: number;
  category?: string;
  limit?: number;
  by?: string;
}

/** Options as given: names without dashes, values as text (repeated query parameters arrive as arrays). */
export type RawOptions = Readonly<Record<string, string | readonly string[] | undefined>>;

/** DateTime('UTC') columns (per minute, per hour) hold 1970-01-01 up to 2106-02-07; times are kept inside that. */
export const MIN_TIME_MS = 0;
export const MAX_TIME_MS = Date.UTC(2106, 0, 1);

export const timeForms = [
  '2026-01-31',
  '2026-01-31T10:00',
  '2026-01-31T10:00:00.000Z',
  '2026-01-31 10:00+02:00',
  'now',
  '-15m',
  '-2h',
  '-7d',
] as const;

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const RELATIVE = /^-(\d{1,9})([smhdw])$/;
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * A point in time: ISO-8601 (a date, or a date and time; UTC when no zone is given), `now`, or relative to now
 * (`-30s`, `-15m`, `-2h`, `-7d`, `-1w`). Anything else, or a time outside 1970..2105, is a ReportOptionError.
 */
export function parseTime(option: 'from' | 'to', text: string, nowMs: number): number {
  const value = text.trim();
  const bad = (why: string) => new ReportOptionError(option, text, `${shown(text)} ${why}`, timeForms);
  let ms: number | undefined;
  if (value.toLowerCase() === 'now') ms = nowMs;
  const relative = RELATIVE.exec(value);
  if (relative) ms = nowMs - Number(relative[1]) * UNIT_MS[relative[2] as keyof typeof UNIT_MS];
  const iso = ISO.exec(value);
  if (iso) {
    const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = iso;
    const parts = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
    const [year, month, day, hour, minute, second] = parts;
    const local = Date.UTC(year, month - 1, day, hour, minute, second, Number(frac.padEnd(3, '0').slice(0, 3)));
    const back = new Date(local);
    // Date.UTC rolls 2026-02-30 over to March: a date that does not round-trip does not exist.
    if (
      back.getUTCFullYear() !== year ||
      back.getUTCMonth() !== month - 1 ||
      back.getUTCDate() !== day ||
      hour > 23 ||
      minute > 59 ||
      second > 59
    ) {
      throw bad('is not a valid date and time');
    }
    ms = local - zoneOffsetMs(zone, bad);
  }
  if (ms === undefined) throw bad('is not a time');
  if (!(ms >= MIN_TIME_MS && ms < MAX_TIME_MS)) throw bad('is outside 1970-01-01..2105-12-31');
  return ms;
}

function zoneOffsetMs(zone: string | undefined, bad: (why: string) => Error): number {
  if (zone === undefined || zone.toUpperCase() === 'Z') return 0;
  const match = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
  const hours = Number(match?.[2]);
  const minutes = Number(match?.[3]);
  if (!match || hours > 14 || minutes > 59) throw bad('has an invalid UTC offset');
  return (match[1] === '-' ? -1 : 1) * (hours * 60 + minutes) * 60_000;
}

/** A positive integer up to `max`, written in plain decimal digits. */
export function parseLimit(text: string, max: number): number {
  const value = text.trim();
  const n = /^\d{1,9}$/.test(value) ? Number(value) : Number.NaN;
  if (!(Number.isInteger(n) && n >= 1 && n <= max)) {
    throw new ReportOptionError('limit', text, `${shown(text)} is not an integer from 1 to ${max}`, [`1..${max}`]);
  }
  return n;
}

export function parseChoice(option: OptionName | 'format', text: string, choices: readonly string[]): string {
  if (!choices.includes(text)) throw new ReportOptionError(option, text, `unknown ${option} ${shown(text)}`, choices);
  return text;
}

/** A category must be a valid category name and one that has events; the error lists those that do. */
export function checkCategory(text: string, known: readonly string[]): string {
  if (!isCategory(text)) {
    throw new ReportOptionError(
      'category',
      text,
      `${shown(text)} is not a category name (1 to 100 lowercase letters, digits, _)`,
      known,
    );
  }
  if (!known.includes(text)) throw new ReportOptionError('category', text, `unknown category ${shown(text)}`, known);
  return text;
}

/**
 * Parses the options a report accepts; an option it does not accept, given twice, or malformed is an error naming
 * it. The category is only checked for its syntax here: whether it exists needs the read models (`checkCategory`).
 * A report's default `from` is taken back from `to` when only `to` is given, so a default window never inverts.
 */
export function parseOptions(
  reportName: string,
  specs: readonly OptionSpec[],
  raw: RawOptions,
  nowMs: number,
): ReportOptions {
  const accepted = specs.map((s) => s.name as string);
  const text: Partial<Record<OptionName, string>> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    if (!accepted.includes(name)) {
      throw new ReportOptionError(name, undefined, `not an option of report ${reportName}`, accepted, true);
    }
    if (typeof value !== 'string') {
      throw new ReportOptionError(name, undefined, 'given more than once', ['one value']);
    }
    text[name as OptionName] = value;
  }
  const spec = (name: OptionName) => specs.find((s) => s.name === name);
  const options: ReportOptions = {};
  if (text.to !== undefined) options.to = parseTime('to', text.to, nowMs);
  const fromText = text.from ?? spec('from')?.default;
  if (fromText !== undefined) {
    const base = text.from === undefined ? (options.to ?? nowMs) : nowMs;
    options.from = parseTime('from', fromText, base);
  }
  if (options.from !== undefined && options.to !== undefined && options.from >= options.to) {
    throw new ReportOptionError(
      'from',
      text.from,
      `${new Date(options.from).toISOString()} is not before the end of the range (to) ${new Date(options.to).toISOString()}`,
      [`a time before ${new Date(options.to).toISOString()}`],
    );
  }
  if (text.category !== undefined) options.category = text.category;
  const limitSpec = spec('limit');
  const limitText = text.limit ?? limitSpec?.default;
  if (limitSpec && limitText !== undefined) options.limit = parseLimit(limitText, limitSpec.max ?? 1000);
  const bySpec = spec('by');
  const byText = text.by ?? bySpec?.default;
  if (bySpec && byText !== undefined) options.by = parseChoice('by', byText, bySpec.choices ?? []);
  return options;
}
