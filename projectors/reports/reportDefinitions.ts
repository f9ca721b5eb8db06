import type { QueryParams } from '../../pipeline/clickhouse/engine.js';
import { qualified } from '../readModels/projection.js';
import type { OptionSpec, ReportOptions } from './reportOptions.js';

/**
 * The reports: each one a name, a one-line description, the options it accepts, its columns, and its SQL over the
 * serving views of the read models (never the `_vN` tables, so a report follows a rebuild's swap). Everything a
 * user gives is a bound parameter (`{from:DateTime64(3, 'UTC')}`, `{category:String}`, `{limit:UInt32}`); the SQL
 * text depends only on which options are present and on choices from fixed lists.
 */

/**
 * How a column's values are typed in JSON and shown in a table. `amount` is money as an integer number of minor
 * units (cents), exact up to 2^53; it may be negative. `day` is a UTC day's start, like `minute` and `hour`.
 */
export type ColumnKind = 'text' | 'count' | 'amount' | 'percent' | 'minute' | 'hour' | 'day' | 'time';

export interface ReportColumn {
  readonly name: string;
  readonly kind: ColumnKind;
}

export interface ReportDefinition {
  readonly name: string;
  readonly description: string;
  readonly options: readonly OptionSpec[];
  readonly columns: readonly ReportColumn[];
  /** The SELECT over views of `database`; its placeholders are bound from `reportParams(options)`. */
  sql(database: string, options: ReportOptions): string;
}

const FROM = "{from:DateTime64(3, 'UTC')}";
const TO = "{to:DateTime64(3, 'UTC')}";
const CATEGORY = '{category:String}';

/** The query parameters of validated options: only ever bound, never spliced. */
export function reportParams(options: ReportOptions): QueryParams {
  const params: Record<string, QueryParams[string]> = {};
  if (options.from !== undefined) params.from = new Date(options.from);
  if (options.to !== undefined) params.to = new Date(options.to);
  if (options.category !== undefined) params.category = options.category;
  if (options.limit !== undefined) params.limit = options.limit;
  return params;
}

/**
 * Conditions on a time column over the half-open range [from, to). With `bucket` (toStartOfMinute,
 * toStartOfHour, toStartOfDay) the column holds bucket starts and the condition keeps every bucket that overlaps
 * the range.
 */
export function timeRange(column: string, options: ReportOptions, bucket?: string): string[] {
  const conditions: string[] = [];
  if (options.from !== undefined) conditions.push(`${column} >= ${bucket ? `${bucket}(${FROM})` : FROM}`);
  if (options.to !== undefined) conditions.push(`${column} < ${TO}`);
  return conditions;
}

function categoryIs(column: string, options: ReportOptions): string[] {
  return options.category === undefined ? [] : [`${column} = ${CATEGORY}`];
}

export function where(conditions: readonly string[]): string {
  return conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
}

const from = (description: string, fallback?: string): OptionSpec =>
  fallback === undefined ? { name: 'from', description } : { name: 'from', description, default: fallback };
const to: OptionSpec = { name: 'to', description: 'end of the range, exclusive (default: open)' };
const category: OptionSpec = { name: 'category', description: 'only this category' };

const topStreamOrders = {
  size: 'version DESC, stream',
  recent: 'time DESC, stream',
} as const;

export const coreReports: readonly ReportDefinition[] = [
  {
    name: 'event-rate',
    description: 'events per minute by category and type (minutes overlapping the range)',
    options: [from('start of the range (default: 60 minutes before --to or now)', '-60m'), to, category],
    columns: [
      { name: 'minute', kind: 'minute' },
      { name: 'category', kind: 'text' },
      { name: 'type', kind: 'text' },
      { name: 'events', kind: 'count' },
    ],
    sql: (db, o) => `
      SELECT minute, category, type, events
      FROM ${qualified(db, 'events_per_minute')}
      ${where([...timeRange('minute', o, 'toStartOfMinute'), ...categoryIs('category', o)])}
      ORDER BY minute, category, type`,
  },
  {
    name: 'category-activity',
    description: 'per hour and category: streams with events, streams begun, events (hours overlapping the range)',
    options: [from('start of the range (default: 24 hours before --to or now)', '-24h'), to, category],
    columns: [
      { name: 'hour', kind: 'hour' },
      { name: 'category', kind: 'text' },
      { name: 'active_streams', kind: 'count' },
      { name: 'new_streams', kind: 'count' },
      { name: 'events', kind: 'count' },
      { name: 'last_event_at', kind: 'time' },
    ],
    sql: (db, o) => `
      SELECT a.hour AS hour, a.category AS category, a.active_streams AS active_streams,
             a.new_streams AS new_streams, e.n AS events, a.last_event_at AS last_event_at
      FROM ${qualified(db, 'category_activity_hourly')} AS a
      LEFT JOIN (
        SELECT toStartOfHour(minute) AS h, category AS c, sum(events) AS n
        FROM ${qualified(db, 'events_per_minute')}
        ${where([...timeRange('toStartOfHour(minute)', o, 'toStartOfHour'), ...categoryIs('category', o)])}
        GROUP BY h, c
      ) AS e ON a.hour = e.h AND a.category = e.c
      ${where([...timeRange('a.hour', o, 'toStartOfHour'), ...categoryIs('a.category', o)])}
      ORDER BY hour, category`,
  },
  {
    name: 'categories',
    description: 'per category: events, streams with events, first and last event time (exact, from every event)',
    options: [from('start of the range (default: open)'), to],
    columns: [
      { name: 'category', kind: 'text' },
      { name: 'events', kind: 'count' },
      { name: 'streams', kind: 'count' },
      { name: 'first_event_at', kind: 'time' },
      { name: 'last_event_at', kind: 'time' },
    ],
    sql: (db, o) => `
      SELECT category, count() AS events, uniqExact(stream) AS streams,
             min(time) AS first_event_at, max(time) AS last_event_at
      FROM ${qualified(db, 'events')}
      ${where(timeRange('time', o))}
      GROUP BY category
      ORDER BY category`,
  },
  {
    name: 'top-streams',
    description: 'the largest (--by size) or most recently written (--by recent) streams',
    options: [
      from('only streams whose last event is at or after this (default: open)'),
      { ...to, description: 'only streams whose last event is before this (default: open)' },
      category,
      { name: 'limit', description: 'how many streams', default: '20', max: 1000 },
      { name: 'by', description: 'order by', default: 'size', choices: Object.keys(topStreamOrders) },
    ],
    columns: [
      { name: 'stream', kind: 'text' },
      { name: 'category', kind: 'text' },
      { name: 'events', kind: 'count' },
      { name: 'last_type', kind: 'text' },
      { name: 'last_event_at', kind: 'time' },
    ],
    sql: (db, o) => `
      SELECT stream, category, version + 1 AS events, type AS last_type, time AS last_event_at
      FROM ${qualified(db, 'stream_heads')}
      ${where([...timeRange('time', o), ...categoryIs('category', o)])}
      ORDER BY ${topStreamOrders[(o.by ?? 'size') as keyof typeof topStreamOrders] ?? topStreamOrders.size}
      LIMIT {limit:UInt32}`,
  },
  {
    name: 'event-types',
    description: 'events per type and category, with their share of the events counted (minutes overlapping the range)',
    options: [from('start of the range (default: open)'), to, category],
    columns: [
      { name: 'type', kind: 'text' },
      { name: 'category', kind: 'text' },
      { name: 'events', kind: 'count' },
      { name: 'share_pct', kind: 'percent' },
      { name: 'first_minute', kind: 'minute' },
      { name: 'last_minute', kind: 'minute' },
    ],
    sql: (db, o) => `
      SELECT type, category, sum(events) AS n, n AS events, round(100 * n / sum(n) OVER (), 2) AS share_pct,
             min(minute) AS first_minute, max(minute) AS last_minute
      FROM ${qualified(db, 'events_per_minute')}
      ${where([...timeRange('minute', o, 'toStartOfMinute'), ...categoryIs('category', o)])}
      GROUP BY type, category
      ORDER BY n DESC, type, category`,
  },
];
