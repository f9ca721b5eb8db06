import { type ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { ServiceUnavailableError } from '../errors.js';
import { type ClickHouseEngine, ClickHouseQueryError, type EngineKind, type QueryParams } from './engine.js';

export interface ServerEngineOptions {
  /** `server` (default) or `embedded-remote`: another process's embedded engine behind its HTTP facade. */
  kind?: Extract<EngineKind, 'server' | 'embedded-remote'>;
  /** Names the other end in errors, e.g. `embedded ClickHouse owner (pid 123, data /x/chdb)`. */
  describe?: string;
  requestTimeoutMs?: number;
}

/** Errors of the connection itself, as opposed to an answer from ClickHouse: the other end is not there. */
const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'ETIMEDOUT']);

/**
 * A ClickHouse server through the official HTTP client, or the embedded engine of another process through its
 * owner's facade, which speaks the same protocol. Bound parameters travel as `param_<name>` and are bound by
 * ClickHouse, never spliced into the SQL.
 */
export class ServerEngine implements ClickHouseEngine {
  readonly kind: Extract<EngineKind, 'server' | 'embedded-remote'>;
  private readonly client: ClickHouseClient;
  private readonly describe: string;

  constructor(
    readonly url: string,
    options: ServerEngineOptions = {},
  ) {
    this.kind = options.kind ?? 'server';
    this.describe = options.describe ?? 'ClickHouse server';
    // The client's own error log would repeat what ClickHouseQueryError already says, with less context.
    this.client = createClient({
      url,
      request_timeout: options.requestTimeoutMs ?? 60_000,
      log: { level: ClickHouseLogLevel.OFF },
    });
  }

  async command(sql: string, params?: QueryParams): Promise<void> {
    try {
      await this.client.command({ query: sql, ...(params ? { query_params: { ...params } } : {}) });
    } catch (error) {
      throw this.failure(sql, error);
    }
  }

  async insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
    if (rows.length === 0) return;
    try {
      await this.client.insert({ table, values: [...rows], format: 'JSONEachRow' });
    } catch (error) {
      throw this.failure(`INSERT INTO ${table}`, error);
    }
  }

  async query<Row>(sql: string, params?: QueryParams): Promise<Row[]> {
    try {
      const result = await this.client.query({
        query: sql,
        format: 'JSONEachRow',
        ...(params ? { query_params: { ...params } } : {}),
      });
      return await result.json<Row>();
    } catch (error) {
      throw this.failure(sql, error);
    }
  }

  async version(): Promise<string> {
    const [row] = await this.query<{ v: string }>('SELECT version() AS v');
    return row?.v ?? 'unknown';
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  /**
   * Nothing listening (or the connection cut) is ServiceUnavailableError, retriable: for `embedded-remote` it
   * means the owner is gone, and `openEngine` again finds a new owner or takes the data path over.
   */
  private failure(sql: string, error: unknown): Error {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    const message = error instanceof Error ? error.message : '';
    if ((code !== undefined && CONNECTION_ERRORS.has(code)) || /socket hang up/.test(message)) {
      return new ServiceUnavailableError(this.describe, this.url, error);
    }
    return new ClickHouseQueryError(this.kind, sql, error);
  }
}
