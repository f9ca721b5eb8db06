import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable, Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { type EmbeddedEngine, plainTableName, RAW_INSERT_FORMATS } from './embeddedEngine.js';
import { parseExceptionCode } from './engine.js';
import { BadQueryParameterError, bindValues } from './httpParams.js';

/**
 * The embedded engine served over a subset of ClickHouse's HTTP interface, enough for @clickhouse/client 1.x, so
 * that every process other than the data path's owner reaches the data with the same client and SQL as a server:
 *
 * - `GET|HEAD /ping` and `GET /` answer `Ok.`;
 * - a statement in the `query` URL parameter, the body, or both (`query` + "\n" + body, as ClickHouse does); GET
 *   only for reading statements (SELECT, WITH, SHOW, DESCRIBE, EXISTS, EXPLAIN);
 * - `param_<name>` for `{name:Type}` placeholders, bound by chdb's bind API (also as multipart/form-data parts);
 * - `database`, `default_format` (default TabSeparated), `query_id`, and any other URL parameter as a setting
 *   for that statement alone;
 * - `INSERT INTO t [(cols)] FORMAT <text format>` with the rows in the body goes to chdb's raw insert (bytes to the
 *   engine's parser); other inserts run with the data inline;
 * - request bodies compressed with gzip, deflate or br (`Content-Encoding`), limited to `maxBodyBytes`;
 * - errors as ClickHouse sends them: HTTP 4xx/5xx, body `Code: <n>. DB::Exception: … (TYPE) (version …)`, header
 *   `X-ClickHouse-Exception-Code`, so the client raises ClickHouseError with its code and type.
 *
 * Not served: sessions (`session_id`), roles, ClickHouse's native compression (`compress`, `decompress`),
 * external tables, authentication (it listens on the loopback interface only), streaming of results (chdb
 * buffers a result; the response is sent whole).
 */

export interface FacadeOptions {
  /** 0 picks a free port. */
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Largest request body, after decompression. */
  maxBodyBytes: number;
  /** ClickHouse version of the engine, for error messages and headers. */
  version: string;
}

/** URL parameters of the HTTP interface itself, not settings. */
const PROTOCOL_PARAMS = new Set([
  'query',
  'database',
  'default_format',
  'query_id',
  'user',
  'password',
  'quota_key',
  'enable_http_compression',
  'http_zlib_compression_level',
  'http_native_compression_disable_checksumming_on_decompress',
  'send_progress_in_http_headers',
  'http_headers_progress_interval_ms',
  'wait_end_of_query',
  'http_wait_end_of_query',
  'buffer_size',
  'http_response_buffer_size',
  'add_http_cors_header',
  'cancel_http_readonly_queries_on_client_close',
  'http_write_exception_in_output_format',
  'session_timeout',
  'session_check',
]);

const READING_STATEMENT = /^\s*(\(\s*)*(SELECT|WITH|SHOW|DESCRIBE|DESC|EXISTS|EXPLAIN)\b/i;
const IDENT = String.raw`(?:[A-Za-z0-9_]+|\x60[A-Za-z0-9_]+\x60|"[A-Za-z0-9_]+")`;
const INSERT_FORMAT = new RegExp(
  String.raw`^\s*INSERT\s+INTO\s+(?:TABLE\s+)?(${IDENT}(?:\s*\.\s*${IDENT})?)\s*(?:\(([^()]*)\))?\s*FORMAT\s+([A-Za-z0-9_]+)\s*$`,
  'i',
);
const TRAILING_FORMAT = /\bFORMAT\s+([A-Za-z0-9_]+)\s*;?\s*$/i;

/** A failure to report to the client the way ClickHouse would. */
export class HttpFacadeError extends Error {
  constructor(
    readonly clickhouseCode: number,
    readonly clickhouseType: string,
    readonly status: number,
    detail: string,
  ) {
    super(`Code: ${clickhouseCode}. DB::Exception: ${detail}. (${clickhouseType})`);
    this.name = 'HttpFacadeError';
  }
}

export class HttpFacade {
  private readonly inFlight = new Set<Promise<void>>();
  private closing = false;

  private constructor(
    private readonly server: Server,
    private readonly engine: EmbeddedEngine,
    private readonly options: FacadeOptions,
    readonly url: string,
  ) {}

  /** Listens on host:port (rejects with the listen error, e.g. EADDRINUSE). */
  static async start(engine: EmbeddedEngine, options: FacadeOptions): Promise<HttpFacade> {
    const host = options.host ?? '127.0.0.1';
    let facade: HttpFacade | undefined;
    const server = createServer({ keepAliveTimeout: 10_000 }, (req, res) => {
      facade?.handle(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: options.port, host, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    facade = new HttpFacade(server, engine, options, `http://${host}:${port}`);
    return facade;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Stops taking connections, lets requests in flight finish (up to `graceMs`), then closes every socket. */
  async close(graceMs = 30_000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inFlight]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, graceMs);
      }),
    ]);
    clearTimeout(timer);
    this.server.closeAllConnections();
    await closed;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const work = this.serve(req, res).catch((error: unknown) => this.fail(res, error));
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://facade');
    const method = req.method ?? 'GET';
    if (url.pathname === '/ping' || url.pathname === '/replicas_status') {
      if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed(method);
      return this.ok(res, method);
    }
    if (url.pathname !== '/') {
      throw new HttpFacadeError(
        48,
        'NOT_IMPLEMENTED',
        404,
        `There is no handle ${url.pathname}: this embedded ClickHouse facade serves / and /ping`,
      );
    }
    if (method !== 'GET' && method !== 'POST' && method !== 'HEAD') throw methodNotAllowed(method);
    if (method !== 'POST' && !url.searchParams.has('query')) return this.ok(res, method);

    const request = parseUrlParams(url.searchParams);
    let body: Buffer = Buffer.alloc(0);
    if (method === 'POST') {
      body = await readBody(req, this.options.maxBodyBytes);
      const contentType = req.headers['content-type'] ?? '';
      if (/^multipart\/form-data/i.test(contentType)) {
        mergeMultipart(request, parseMultipart(body, contentType));
        body = Buffer.alloc(0);
      }
    }
    const queryId = request.queryId ?? randomUUID();
    const format = request.defaultFormat ?? 'TabSeparated';

    const insert = request.query !== undefined && body.length > 0 ? INSERT_FORMAT.exec(request.query) : null;
    const table = insert?.[1] === undefined ? undefined : plainTableName(insert[1].replace(/\s+/g, ''));
    const columns = insert?.[2]?.split(',').map((c) => c.trim().replace(/^[`"]|[`"]$/g, ''));
    if (
      insert?.[3] !== undefined &&
      table !== undefined &&
      RAW_INSERT_FORMATS.has(insert[3]) &&
      request.params.size === 0 &&
      (columns === undefined || columns.every((c) => /^[A-Za-z0-9_]+$/.test(c)))
    ) {
      const qualified = request.database !== undefined && !table.includes('.') ? `${request.database}.${table}` : table;
      if (request.database !== undefined && !/^[A-Za-z0-9_]+$/.test(request.database)) {
        throw new HttpFacadeError(81, 'UNKNOWN_DATABASE', 404, `Database ${request.database} does not exist`);
      }
      const summary = await this.engine.insertRaw({
        table: qualified,
        columns,
        format: insert[3],
        values: body,
        settings: request.settings,
      });
      res.writeHead(200, {
        ...this.commonHeaders(queryId),
        'Content-Type': 'text/plain; charset=UTF-8',
        'X-ClickHouse-Summary': summaryHeader({ writtenRows: summary.rowsWritten, writtenBytes: summary.bytesWritten }),
      });
      res.end();
      return;
    }

    let sql: string;
    if (request.query !== undefined && body.length > 0) sql = `${request.query}\n${decodeUtf8(body)}`;
    else if (request.query !== undefined) sql = request.query;
    else sql = decodeUtf8(body);
    if (sql.trim() === '') throw new HttpFacadeError(62, 'SYNTAX_ERROR', 400, 'Empty query');
    if (method !== 'POST' && !READING_STATEMENT.test(sql)) {
      throw new HttpFacadeError(
        164,
        'READONLY',
        403,
        'Cannot execute query in readonly mode. For queries over HTTP, method GET implies readonly. You should use method POST for modifying queries',
      );
    }

    const params = request.params.size > 0 ? bindValues(sql, request.params) : undefined;
    const result = await this.engine.run(sql, {
      format,
      params: params && Object.keys(params).length > 0 ? params : undefined,
      settings: Object.keys(request.settings).length > 0 ? request.settings : undefined,
      database: request.database,
    });
    const outputFormat = TRAILING_FORMAT.exec(sql)?.[1] ?? format;
    res.writeHead(200, {
      ...this.commonHeaders(queryId),
      'Content-Type': contentTypeOf(outputFormat),
      'Content-Length': result.bytes.byteLength,
      'X-ClickHouse-Format': outputFormat,
      'X-ClickHouse-Summary': summaryHeader({
        readRows: result.rowsRead,
        readBytes: result.bytesRead,
        elapsedS: result.elapsedS,
      }),
    });
    res.end(method === 'HEAD' ? undefined : result.bytes);
  }

  private ok(res: ServerResponse, method: string): void {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=UTF-8', 'Content-Length': 4 });
    res.end(method === 'HEAD' ? undefined : 'Ok.\n');
  }

  private commonHeaders(queryId: string): Record<string, string> {
    return {
      'X-ClickHouse-Query-Id': queryId,
      'X-ClickHouse-Server-Display-Name': 'kes-embedded',
      'X-ClickHouse-Timezone': 'UTC',
    };
  }

  private fail(res: ServerResponse, error: unknown): void {
    const { code, status, message } = describeFailure(error);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = `${message} (version ${this.options.version})\n`;
    res.writeHead(status, {
      'Content-Type': 'text/plain; charset=UTF-8',
      'X-ClickHouse-Exception-Code': String(code),
      'Content-Length': Buffer.byteLength(body),
      // A body left unread (too large, bad encoding) cannot be resumed on this connection.
      ...(status === 413 || status === 400 ? { Connection: 'close' } : {}),
    });
    res.end(body);
  }
}

interface FacadeRequest {
  query: string | undefined;
  database: string | undefined;
  defaultFormat: string | undefined;
  queryId: string | undefined;
  params: Map<string, string>;
  settings: Record<string, string>;
}

function parseUrlParams(search: URLSearchParams): FacadeRequest {
  const request: FacadeRequest = {
    query: undefined,
    database: undefined,
    defaultFormat: undefined,
    queryId: undefined,
    params: new Map(),
    settings: {},
  };
  for (const [name, value] of search) {
    if (name.startsWith('param_')) {
      request.params.set(name.slice('param_'.length), value);
      continue;
    }
    switch (name) {
      case 'query':
        request.query = value;
        continue;
      case 'database':
        if (value !== '' && value !== 'default') request.database = value;
        continue;
      case 'default_format':
        if (!/^[A-Za-z0-9_]+$/.test(value))
          throw new HttpFacadeError(73, 'UNKNOWN_FORMAT', 404, `Unknown format ${value}`);
        request.defaultFormat = value;
        continue;
      case 'query_id':
        request.queryId = value;
        continue;
      case 'session_id':
      case 'role':
        if (value === '') continue;
        throw new HttpFacadeError(48, 'NOT_IMPLEMENTED', 501, `${name} is not supported by the embedded facade`);
      case 'compress':
      case 'decompress':
        if (value === '0' || value === '') continue;
        throw new HttpFacadeError(
          48,
          'NOT_IMPLEMENTED',
          501,
          `ClickHouse native compression (${name}=1) is not supported by the embedded facade; use Content-Encoding gzip`,
        );
    }
    if (PROTOCOL_PARAMS.has(name)) continue;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new HttpFacadeError(115, 'UNKNOWN_SETTING', 404, `Unknown setting '${name}'`);
    }
    request.settings[name] = value;
  }
  return request;
}

function mergeMultipart(request: FacadeRequest, parts: Map<string, string>): void {
  for (const [name, value] of parts) {
    if (name === 'query') request.query = value;
    else if (name.startsWith('param_')) request.params.set(name.slice('param_'.length), value);
    else {
      throw new HttpFacadeError(
        48,
        'NOT_IMPLEMENTED',
        501,
        `multipart part '${name}' is not supported by the embedded facade (only query and param_<name>)`,
      );
    }
  }
}

/**
 * Reads the body, decompressing it per Content-Encoding. Past `limit` bytes it stops keeping them but reads on to
 * the end (up to a hard cap), so that the client, still sending, gets the 413 answer rather than a broken pipe.
 */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const encoding = (req.headers['content-encoding'] ?? '').trim().toLowerCase();
  let source: Readable = req;
  if (encoding === 'gzip' || encoding === 'x-gzip') source = createGunzip();
  else if (encoding === 'deflate') source = createInflate();
  else if (encoding === 'br') source = createBrotliDecompress();
  else if (encoding !== '' && encoding !== 'identity') {
    req.resume();
    throw new HttpFacadeError(89, 'UNKNOWN_COMPRESSION_METHOD', 400, `Unknown Content-Encoding '${encoding}'`);
  }
  if (source !== req) {
    // Not stream.pipeline: a decompression error must leave the request (and its socket) open for the answer.
    const decompressor = source as Transform;
    req.on('error', (error) => decompressor.destroy(error));
    req.pipe(decompressor);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const drainCap = limit + DRAIN_CAP_BYTES;
  try {
    for await (const chunk of source) {
      size += (chunk as Buffer).length;
      if (size <= limit) chunks.push(chunk as Buffer);
      else if (size > drainCap) {
        req.destroy();
        break;
      }
    }
  } catch (error) {
    if (source !== req && !req.readableAborted) {
      req.unpipe();
      req.resume();
      throw new HttpFacadeError(
        271,
        'CANNOT_DECOMPRESS',
        400,
        `Cannot decompress the request body (${encoding}): ${(error as Error).message}`,
      );
    }
    throw error;
  }
  if (size > limit) throw tooLarge(size, limit);
  return Buffer.concat(chunks, size);
}

/** How much of a too-large body is read and thrown away before the connection is cut instead. */
const DRAIN_CAP_BYTES = 1 << 30;

function tooLarge(size: number, limit: number): HttpFacadeError {
  return new HttpFacadeError(
    290,
    'LIMIT_EXCEEDED',
    413,
    `Request body of ${size} bytes exceeds the embedded facade's limit of ${limit} bytes (KES_CLICKHOUSE_EMBEDDED_MAX_BODY_BYTES); send smaller batches`,
  );
}

function methodNotAllowed(method: string): HttpFacadeError {
  return new HttpFacadeError(48, 'NOT_IMPLEMENTED', 405, `HTTP method ${method} is not supported; use GET or POST`);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(body: Buffer): string {
  try {
    return utf8.decode(body);
  } catch {
    throw new HttpFacadeError(
      48,
      'NOT_IMPLEMENTED',
      400,
      `The request body is not UTF-8 text: the embedded facade takes statements and text formats only (raw inserts: ${[...RAW_INSERT_FORMATS].join(', ')})`,
    );
  }
}

/** A multipart/form-data body as name → text; files (external tables) are refused. */
export function parseMultipart(body: Buffer, contentType: string): Map<string, string> {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const mark = boundary?.[1] ?? boundary?.[2];
  if (!mark) throw new HttpFacadeError(36, 'BAD_ARGUMENTS', 400, 'multipart/form-data without a boundary');
  const parts = new Map<string, string>();
  const delimiter = Buffer.from(`--${mark}`);
  let at = body.indexOf(delimiter);
  while (at !== -1) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, start);
    if (next === -1) break;
    const part = body.subarray(start, next);
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd === -1) throw new HttpFacadeError(36, 'BAD_ARGUMENTS', 400, 'a multipart part has no headers');
    const headers = part.subarray(0, headerEnd).toString('utf8');
    let content = part.subarray(headerEnd + 4);
    if (content.subarray(-2).toString() === '\r\n') content = content.subarray(0, -2);
    const name = /content-disposition:[^\r\n]*\bname="([^"]*)"/i.exec(headers)?.[1];
    if (name === undefined) throw new HttpFacadeError(36, 'BAD_ARGUMENTS', 400, 'a multipart part has no name');
    if (/\bfilename=/i.test(headers)) {
      throw new HttpFacadeError(48, 'NOT_IMPLEMENTED', 501, 'external tables (multipart files) are not supported');
    }
    parts.set(name, decodeUtf8(content));
    at = next;
  }
  return parts;
}

function summaryHeader(s: {
  readRows?: number;
  readBytes?: number;
  writtenRows?: number;
  writtenBytes?: number;
  elapsedS?: number;
}): string {
  return JSON.stringify({
    read_rows: String(s.readRows ?? 0),
    read_bytes: String(s.readBytes ?? 0),
    written_rows: String(s.writtenRows ?? 0),
    written_bytes: String(s.writtenBytes ?? 0),
    total_rows_to_read: '0',
    result_rows: '0',
    result_bytes: '0',
    elapsed_ns: String(Math.round((s.elapsedS ?? 0) * 1e9)),
  });
}

function contentTypeOf(format: string): string {
  if (/^JSON/i.test(format)) return 'application/json; charset=UTF-8';
  if (/^(TSV|TabSeparated)/i.test(format)) return 'text/tab-separated-values; charset=UTF-8';
  if (/^CSV/i.test(format)) return 'text/csv; charset=UTF-8; header=absent';
  if (/^(RowBinary|Native|Parquet|Arrow|ORC|Avro|Protobuf|MsgPack)/i.test(format)) return 'application/octet-stream';
  return 'text/plain; charset=UTF-8';
}

/** ClickHouse's own mapping from exception code to HTTP status (HTTPHandler.cpp), for the codes that occur here. */
const STATUS_BY_CODE = new Map<number, number>([
  ...[194].map((c) => [c, 401] as [number, number]),
  ...[192, 193, 516, 512, 164, 497].map((c) => [c, 403] as [number, number]),
  ...[
    36, 427, 6, 25, 26, 38, 41, 72, 441, 675, 676, 27, 376, 15, 44, 37, 123, 8, 167, 168, 223, 62, 117, 53, 321, 457,
    456, 130,
  ].map((c) => [c, 400] as [number, number]),
  ...[60, 46, 47, 50, 56, 81, 115, 152, 63, 73, 336, 78, 511].map((c) => [c, 404] as [number, number]),
  [229, 413],
  [48, 501],
  [209, 503],
  [76, 503],
  [381, 411],
  [159, 408],
  [439, 503],
]);

function describeFailure(error: unknown): { code: number; status: number; message: string } {
  if (error instanceof HttpFacadeError) {
    return { code: error.clickhouseCode, status: error.status, message: error.message };
  }
  const message = error instanceof Error ? error.message : String(error);
  const fields = error as { clickhouseCode?: unknown; code?: unknown } | undefined;
  if (error instanceof BadQueryParameterError) return { code: 457, status: 400, message };
  if (fields?.code === 'CHDB_BIND') {
    return {
      code: 457,
      status: 400,
      message: `Code: 457. DB::Exception: ${message.replace(/\.?\s*$/, '')}. (BAD_QUERY_PARAMETER)`,
    };
  }
  const code =
    typeof fields?.clickhouseCode === 'number' ? fields.clickhouseCode : (parseExceptionCode(message) ?? undefined);
  if (code !== undefined) {
    const text = /^\s*Code: \d+\./.test(message)
      ? message.trim()
      : `Code: ${code}. DB::Exception: ${message.trim()}. (UNKNOWN_EXCEPTION)`;
    return { code, status: STATUS_BY_CODE.get(code) ?? 500, message: text };
  }
  return {
    code: 1002,
    status: 500,
    message: `Code: 1002. DB::Exception: ${message.trim().replace(/\.?$/, '')}. (UNKNOWN_EXCEPTION)`,
  };
}
