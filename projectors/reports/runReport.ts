import type { ClickHouseEngine } from '../../pipeline/clickhouse/engine.js';
import { ClickHouseQueryError } from '../../pipeline/clickhouse/engine.js';
import { ConfigError } from '../../pipeline/errors.js';
import { qualified } from '../readModels/projection.js';
import type { ReportCatalog } from './reportCatalog.js';
import { type ColumnKind, type ReportDefinition, reportParams } from './reportDefinitions.js';
import { UnknownReportError } from './reportErrors.js';
import { checkCategory, parseOptions, type RawOptions, type ReportOptions } from './reportOptions.js';

/** One value of a report row: counts, amounts and percentages are numbers, times ISO-8601 UTC text (`…Z`). */
export type ReportValue = string | number | null;
export type ReportRow = Record<string, ReportValue>;

export interface PreparedReport {
  readonly definition: ReportDefinition;
  readonly options: ReportOptions;
}

export interface ReportResult extends PreparedReport {
  readonly rows: ReportRow[];
}

/**
 * Everything that can be checked without the read models: the report exists, its options are its own and well
 * formed. Throws UnknownReportError or ReportOptionError; nothing has run yet.
 */
export function prepareReport(
  catalog: ReportCatalog,
  name: string,
  raw: RawOptions,
  nowMs: number = Date.now(),
): PreparedReport {
  const definition = catalog.find(name);
  if (!definition) throw new UnknownReportError(name, catalog.names);
  return { definition, options: parseOptions(name, definition.options, raw, nowMs) };
}

/** The categories that have events: the valid values of `--category`. */
export async function knownCategories(engine: ClickHouseEngine, database: string): Promise<string[]> {
  const rows = await readModels(database, () =>
    engine.query<{ category: string }>(
      `SELECT DISTINCT category FROM ${qualified(database, 'stream_heads')} ORDER BY category`,
    ),
  );
  return rows.map((r) => r.category);
}

export interface RunOptions {
  /** Where the valid categories come from, given the one asked for (default: `knownCategories`, each time). */
  categories?: (wanted: string) => Promise<readonly string[]>;
}

/**
 * Runs a prepared report: checks that its category exists (the one query before the report's own, and it binds
 * nothing the user gave), then runs the report's SQL with every value bound, and types the rows.
 */
export async function runReport(
  engine: ClickHouseEngine,
  database: string,
  prepared: PreparedReport,
  options: RunOptions = {},
): Promise<ReportResult> {
  const { definition } = prepared;
  if (prepared.options.category !== undefined) {
    const known = await (options.categories ?? (() => knownCategories(engine, database)))(prepared.options.category);
    checkCategory(prepared.options.category, known);
  }
  const raw = await readModels(database, () =>
    engine.query<Record<string, unknown>>(definition.sql(database, prepared.options), reportParams(prepared.options)),
  );
  const rows = raw.map((r) => Object.fromEntries(definition.columns.map((c) => [c.name, typed(c.kind, r[c.name])])));
  return { ...prepared, rows };
}

/** The read models of `database` are missing: the projection was never installed there. */
export class ReadModelsMissingError extends ConfigError {
  readonly database: string;
  constructor(database: string, cause: unknown) {
    super(
      'KES_CLICKHOUSE_DATABASE',
      `database ${database} has no read models (${cause instanceof ClickHouseQueryError ? cause.clickhouseType : 'missing'}); run a projector into it first (kes project) or point KES_CLICKHOUSE_DATABASE at one`,
    );
    this.database = database;
  }
}

const MISSING = new Set(['UNKNOWN_DATABASE', 'UNKNOWN_TABLE']);

/** Runs a read of the read models; a missing database or view becomes ReadModelsMissingError. */
export async function readModels<T>(database: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ClickHouseQueryError && MISSING.has(error.clickhouseType ?? '')) {
      throw new ReadModelsMissingError(database, error);
    }
    throw error;
  }
}

/** `2026-01-31 10:00:00[.123]` in UTC (how ClickHouse prints DateTime('UTC') and DateTime64(3, 'UTC')). */
const CLICKHOUSE_TIME = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?$/;

/** A value as ClickHouse answered it (64-bit integers as numbers or strings) typed by its column's kind. */
export function typed(kind: ColumnKind, value: unknown): ReportValue {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'count':
    case 'amount':
    case 'percent':
      return Number(value);
    case 'minute':
    case 'hour':
    case 'day':
    case 'time': {
      const match = CLICKHOUSE_TIME.exec(String(value));
      if (!match) throw new Error(`not a ClickHouse UTC time: ${String(value)}`);
      return `${match[1]}T${match[2]}.${(match[3] ?? '').padEnd(3, '0').slice(0, 3)}Z`;
    }
    default:
      return String(value);
  }
}
