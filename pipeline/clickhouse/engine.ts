/**
 * The read models' SQL runs on either engine: a ClickHouse server over HTTP (@clickhouse/client) or the
 * embedded engine (chdb) in-process. Both take the same SQL and return rows in the same JSON shapes
 * (JSONEachRow: 64-bit integers as strings), so everything above this interface is written once.
 */
export interface ClickHouseEngine {
  readonly kind: 'server' | 'embedded';
  /** DDL and other statements that return nothing. */
  command(sql: string): Promise<void>;
  /** Insert rows as JSONEachRow into `table` (may be database-qualified). */
  insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void>;
  /** A SELECT, returning its rows as objects. */
  query<Row = Record<string, unknown>>(sql: string): Promise<Row[]>;
  version(): Promise<string>;
  close(): Promise<void>;
}

export class ClickHouseQueryError extends Error {
  readonly sql: string;
  readonly engine: ClickHouseEngine['kind'];
  constructor(engine: ClickHouseEngine['kind'], sql: string, cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(`${engine} ClickHouse: ${detail.split('\n')[0]} (in: ${sql.replace(/\s+/g, ' ').slice(0, 200)})`, { cause });
    this.name = 'ClickHouseQueryError';
    this.sql = sql;
    this.engine = engine;
  }
}
