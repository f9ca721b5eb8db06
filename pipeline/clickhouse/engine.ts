import { KesError } from '../errors.js';

/**
 * A value for a bound query parameter `{name:Type}`. Values are bound by ClickHouse itself (never spliced into the
 * SQL text): the server through `param_<name>` of its HTTP interface, the embedded engine through chdb's bind API.
 * Arrays, tuples (as arrays) and maps (plain objects) nest. A Date binds as a Unix timestamp with milliseconds,
 * which DateTime and DateTime64 parameters both accept.
 */
export type QueryParamValue =
  | string
  | number
  | bigint
  | boolean
  | Date
  | null
  | undefined
  | readonly QueryParamValue[]
  | { readonly [key: string]: QueryParamValue };

export type QueryParams = Readonly<Record<string, QueryParamValue>>;

/**
 * Where the SQL runs: `server` is a ClickHouse server over HTTP; `embedded` is chdb inside this process (which then
 * owns the data path and serves it to other processes over HTTP); `embedded-remote` is the embedded engine owned by
 * another process, reached through that owner's HTTP facade with the same client as a server.
 */
export type EngineKind = 'server' | 'embedded' | 'embedded-remote';

/**
 * The read models' SQL runs on either engine: a ClickHouse server over HTTP (@clickhouse/client) or the
 * embedded engine (chdb). Both take the same SQL and return rows in the same JSON shapes (JSONEachRow with the
 * engine's defaults: ClickHouse 25.8 and later, and chdb 26.x, print 64-bit integers as JSON numbers unless
 * output_format_json_quote_64bit_integers=1), so everything above this interface is written once.
 */
export interface ClickHouseEngine {
  readonly kind: EngineKind;
  /** DDL and other statements that return nothing; `{name:Type}` placeholders are bound from `params`. */
  command(sql: string, params?: QueryParams): Promise<void>;
  /** Insert rows as JSONEachRow into `table` (may be database-qualified). */
  insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void>;
  /** A SELECT, returning its rows as objects; `{name:Type}` placeholders are bound from `params`. */
  query<Row = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<Row[]>;
  version(): Promise<string>;
  close(): Promise<void>;
}

/** ClickHouse exception codes that mean "try again later", not "this statement is wrong". */
const RETRIABLE_CODES = new Set([
  159, // TIMEOUT_EXCEEDED
  160, // TOO_SLOW
  202, // TOO_MANY_SIMULTANEOUS_QUERIES
  203, // NO_FREE_CONNECTION
  209, // SOCKET_TIMEOUT
  210, // NETWORK_ERROR
  241, // MEMORY_LIMIT_EXCEEDED
  242, // TABLE_IS_READ_ONLY
  252, // TOO_MANY_PARTS
  319, // UNKNOWN_STATUS_OF_INSERT
  394, // QUERY_WAS_CANCELLED
  999, // KEEPER_EXCEPTION
]);

/** The client gave up waiting (request_timeout) or the connection broke mid-answer: the statement may be retried. */
const TRANSIENT_MESSAGE = /Timeout error|socket hang up|other side closed|ECONNRESET/i;

/**
 * ClickHouse refused or failed a statement. `clickhouseCode` and `clickhouseType` are ClickHouse's own exception
 * code and name (60, UNKNOWN_TABLE) when the engine reported them, on every engine alike.
 */
export class ClickHouseQueryError extends KesError {
  readonly sql: string;
  readonly engine: EngineKind;
  readonly clickhouseCode: number | undefined;
  readonly clickhouseType: string | undefined;
  constructor(engine: EngineKind, sql: string, cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    const { code, type } = exceptionCodeOf(cause);
    super(
      'KES_CLICKHOUSE_QUERY',
      `${engine} ClickHouse: ${detail.split('\n')[0]} (in: ${sql.replace(/\s+/g, ' ').slice(0, 200)})`,
      {
        cause,
        retriable: code !== undefined ? RETRIABLE_CODES.has(code) : TRANSIENT_MESSAGE.test(detail),
        context: { engine, clickhouseCode: code, clickhouseType: type },
      },
    );
    this.sql = sql;
    this.engine = engine;
    this.clickhouseCode = code;
    this.clickhouseType = type;
  }
}

/**
 * The exception code and name of an error from either client: @clickhouse/client's ClickHouseError carries `code`
 * as a string and `type`; chdb's errors carry `clickhouseCode`; both messages start `Code: <n>.` and end `(TYPE)`.
 */
export function exceptionCodeOf(error: unknown): { code: number | undefined; type: string | undefined } {
  if (!(error instanceof Error)) return { code: undefined, type: undefined };
  const fields = error as Error & { code?: unknown; type?: unknown; clickhouseCode?: unknown };
  let code: number | undefined;
  if (typeof fields.clickhouseCode === 'number') code = fields.clickhouseCode;
  else if (typeof fields.code === 'string' && /^\d+$/.test(fields.code)) code = Number(fields.code);
  else code = parseExceptionCode(error.message);
  const type =
    typeof fields.type === 'string' && /^[A-Z0-9_]+$/.test(fields.type)
      ? fields.type
      : parseExceptionType(error.message);
  return { code, type };
}

/** `Code: 60. DB::Exception: …` → 60. */
export function parseExceptionCode(message: string): number | undefined {
  const match = /^\s*Code: (\d+)\./.exec(message);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** The exception name ClickHouse appends in parentheses: `… (UNKNOWN_TABLE)` or `… (UNKNOWN_TABLE) (version …)`. */
export function parseExceptionType(message: string): string | undefined {
  const match = /\(((?=[A-Z0-9_]*[A-Z]{3})[A-Z0-9_]+)\)(?:\s*\(version [^)]*\)\)?)?\s*$/.exec(message.trimEnd());
  return match?.[1];
}
