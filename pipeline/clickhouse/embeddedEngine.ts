import { mkdirSync } from 'node:fs';
import type { Session } from 'chdb';
import { EmbeddedOwnerError } from '../errors.js';
import { type ClickHouseEngine, ClickHouseQueryError, type QueryParams, type QueryParamValue } from './engine.js';
import { ReadWriteLock } from './readWriteLock.js';

/** Text formats chdb's raw insert takes as bytes, parsed by the engine itself (its whitelist). */
export const RAW_INSERT_FORMATS = new Set([
  'JSONEachRow',
  'JSONCompactEachRow',
  'TSV',
  'TabSeparated',
  'TSVWithNames',
  'TabSeparatedWithNames',
  'CSV',
  'CSVWithNames',
]);

export interface RunOptions {
  /** Output format when the statement has no FORMAT clause of its own. */
  format: string;
  /** Bound parameters, as values chdb's bind API formats itself (see `chdbParams`). */
  params?: Readonly<Record<string, unknown>> | undefined;
  /** Query-level settings, by name, as ClickHouse's HTTP interface takes them (strings). */
  settings?: Readonly<Record<string, string>> | undefined;
  /** Default database for this statement. */
  database?: string | undefined;
}

export interface RunResult {
  bytes: Uint8Array;
  rowsRead: number;
  bytesRead: number;
  elapsedS: number;
}

export interface RawInsert {
  /** Plain `table` or `db.table` (letters, digits, underscores). */
  table: string;
  columns?: readonly string[] | undefined;
  format: string;
  values: Buffer;
  settings?: Readonly<Record<string, string>> | undefined;
}

export interface RawInsertResult {
  rowsWritten: number;
  bytesWritten: number;
  elapsedS: number;
}

const IDENTIFIER = /^[A-Za-z0-9_]+$/;
const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * ClickHouse embedded in this process (npm chdb). Only the async calls are used: the sync ones block the event
 * loop for the whole query, which would stall Kafka heartbeats and HTTP. One process holds a data path at a
 * time (chdb locks `<path>/status`): other processes reach the data through the owner's HTTP facade
 * (httpFacade.ts), which `openEngine` starts and finds.
 *
 * Statements that carry settings or a default database change the session for their duration (SET … then SET …
 * = DEFAULT), so they run alone; every other statement shares the session.
 */
export class EmbeddedEngine implements ClickHouseEngine {
  readonly kind = 'embedded' as const;
  private readonly lock = new ReadWriteLock();
  private closed = false;

  private constructor(
    private readonly session: Session,
    readonly path: string,
  ) {}

  /** Opens the data path; fails with EmbeddedOwnerError (retriable) when another process holds it. */
  static async open(path: string): Promise<EmbeddedEngine> {
    mkdirSync(path, { recursive: true });
    const { Session: SessionClass } = await import('chdb');
    try {
      return new EmbeddedEngine(new SessionClass(path), path);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      if (/only one active data directory per process/.test(detail)) {
        // Waiting cannot help: this process has another data path open.
        throw new EmbeddedOwnerError(path, `chdb could not open ${path}: ${detail}`, {
          retriable: false,
          cause: error,
        });
      }
      throw new EmbeddedOwnerError(
        path,
        `chdb could not open ${path}: ${detail} (another process may hold it: chdb locks ${path}/status)`,
        { retriable: true, cause: error },
      );
    }
  }

  async command(sql: string, params?: QueryParams): Promise<void> {
    try {
      await this.run(sql, { format: 'TabSeparated', params: params && chdbParams(params) });
    } catch (error) {
      throw new ClickHouseQueryError(this.kind, sql, error);
    }
  }

  async insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
    if (rows.length === 0) return;
    const body = rows.map((row) => JSON.stringify(row)).join('\n');
    const plain = plainTableName(table);
    try {
      if (plain) await this.insertRaw({ table: plain, format: 'JSONEachRow', values: Buffer.from(body) });
      // A name chdb's raw insert does not take (quoted oddly): inline data after FORMAT, parsed by the engine.
      else await this.run(`INSERT INTO ${table} FORMAT JSONEachRow\n${body}`, { format: 'TabSeparated' });
    } catch (error) {
      throw new ClickHouseQueryError(this.kind, `INSERT INTO ${table}`, error);
    }
  }

  async query<Row>(sql: string, params?: QueryParams): Promise<Row[]> {
    let text: string;
    try {
      const result = await this.run(sql, { format: 'JSONEachRow', params: params && chdbParams(params) });
      text = Buffer.from(result.bytes.buffer, result.bytes.byteOffset, result.bytes.byteLength).toString('utf8');
    } catch (error) {
      throw new ClickHouseQueryError(this.kind, sql, error);
    }
    return text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Row);
  }

  async version(): Promise<string> {
    const [row] = await this.query<{ v: string }>('SELECT version() AS v');
    return row?.v ?? 'unknown';
  }

  /**
   * One statement, its result as bytes in `options.format` (or its own FORMAT). Errors are chdb's own, carrying
   * ClickHouse's code (`clickhouseCode`) and message (`Code: <n>. DB::Exception: …`).
   */
  run(sql: string, options: RunOptions): Promise<RunResult> {
    const settings = Object.entries(options.settings ?? {});
    const exec = async (): Promise<RunResult> => {
      const result = options.params
        ? await this.session.queryBindAsync(sql, options.params, { format: options.format })
        : await this.session.queryAsync(sql, { format: options.format });
      return {
        bytes: result.bytes(),
        rowsRead: result.rowsRead,
        bytesRead: result.bytesRead,
        elapsedS: result.elapsed,
      };
    };
    if (settings.length === 0 && options.database === undefined) return this.lock.shared(exec);
    return this.lock.exclusive(() => this.withSessionState(settings, options.database, exec));
  }

  /** chdb's raw insert: the payload goes to the engine's parser as bytes, never through a JS object tree. */
  insertRaw(insert: RawInsert): Promise<RawInsertResult> {
    if (!RAW_INSERT_FORMATS.has(insert.format)) throw new Error(`not a raw insert format: ${insert.format}`);
    for (const name of Object.keys(insert.settings ?? {})) {
      if (!SETTING_NAME.test(name)) throw new Error(`not a setting name: ${name}`);
    }
    return this.lock.shared(async () => {
      const summary = await this.session.insert({
        table: insert.table,
        values: insert.values,
        format: insert.format as 'JSONEachRow',
        ...(insert.columns ? { columns: insert.columns } : {}),
        ...(insert.settings && Object.keys(insert.settings).length > 0 ? { settings: { ...insert.settings } } : {}),
      });
      return { rowsWritten: summary.rowsWritten, bytesWritten: summary.bytesWritten, elapsedS: summary.elapsed };
    });
  }

  private async withSessionState<T>(
    settings: [string, string][],
    database: string | undefined,
    fn: () => Promise<T>,
  ): Promise<T> {
    for (const [name] of settings) {
      if (!SETTING_NAME.test(name)) throw settingError(name);
    }
    if (database !== undefined && !IDENTIFIER.test(database)) {
      throw Object.assign(
        new Error(`Code: 81. DB::Exception: Database ${database} does not exist. (UNKNOWN_DATABASE)`),
        {
          clickhouseCode: 81,
        },
      );
    }
    let previousDatabase: string | undefined;
    let applied = false;
    try {
      if (settings.length > 0) {
        applied = true;
        await this.session.queryAsync(`SET ${settings.map(([n, v]) => `${n} = ${stringLiteral(v)}`).join(', ')}`);
      }
      if (database !== undefined) {
        previousDatabase = (await this.session.queryAsync('SELECT currentDatabase()', { format: 'TabSeparated' }))
          .text()
          .trim();
        await this.session.queryAsync(`USE \`${database}\``);
      }
      return await fn();
    } finally {
      // Back to the session's defaults, whatever happened: the next statement must not inherit these.
      if (previousDatabase !== undefined) await this.session.queryAsync(`USE \`${previousDatabase}\``).catch(() => {});
      if (applied) {
        await this.session
          .queryAsync(`SET ${settings.map(([n]) => `${n} = DEFAULT`).join(', ')}`)
          .catch(() => undefined);
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Statements in flight finish first: closing a chdb connection under a running query aborts the engine.
    await this.lock.exclusive(async () => this.session.close());
  }
}

function settingError(name: string): Error {
  return Object.assign(new Error(`Code: 115. DB::Exception: Unknown setting '${name}'. (UNKNOWN_SETTING)`), {
    clickhouseCode: 115,
  });
}

/** A ClickHouse string literal: ClickHouse parses a setting's value from it whatever the setting's type. */
function stringLiteral(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** `db.table`, `` `db`.`table` `` or `table` as the plain `db.table` chdb's raw insert takes; else undefined. */
export function plainTableName(table: string): string | undefined {
  const part = String.raw`(?:([A-Za-z0-9_]+)|\x60([A-Za-z0-9_]+)\x60|"([A-Za-z0-9_]+)")`;
  const match = new RegExp(`^\\s*${part}(?:\\.${part})?\\s*$`).exec(table);
  if (!match) return undefined;
  const first = match[1] ?? match[2] ?? match[3];
  const second = match[4] ?? match[5] ?? match[6];
  return second === undefined ? first : `${first}.${second}`;
}

/**
 * Values in the shape chdb's bind API formats the way @clickhouse/client does for a server, so that the same
 * parameters mean the same on both engines: a Date binds as Unix seconds with milliseconds (chdb would drop the
 * milliseconds), and a top-level boolean as 1/0 (which Bool and UInt8 parameters both take).
 */
export function chdbParams(params: QueryParams): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(params)) {
    out[name] = typeof value === 'boolean' ? (value ? 1 : 0) : chdbValue(value);
  }
  return out;
}

function chdbValue(value: QueryParamValue): unknown {
  if (value instanceof Date) return value.getTime() / 1000;
  if (Array.isArray(value)) return value.map((v: QueryParamValue) => chdbValue(v));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, chdbValue(v as QueryParamValue)]));
  }
  return value;
}
