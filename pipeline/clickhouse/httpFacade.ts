import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type EmbeddedEngine, plainTableName, RAW_INSERT_FORMATS } from './embeddedEngine.js';
import { readBody } from './facadeBody.js';
import { describeFailure, HttpFacadeError, methodNotAllowed } from './facadeErrors.js';
import { decodeUtf8, mergeMultipart, parseMultipart, parseUrlParams } from './facadeRequest.js';
import { bindValues } from './httpParams.js';

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

const READING_STATEMENT = /^\s*(\(\s*)*(SELECT|WITH|SHOW|DESCRIBE|DESC|EXISTS|EXPLAIN)\b/i;
const IDENT = String.raw`(?:[A-Za-z0-9_]+|\x60[A-Za-z0-9_]+\x60|"[A-Za-z0-9_]+")`;
const INSERT_FORMAT = new RegExp(
  String.raw`^\s*INSERT\s+INTO\s+(?:TABLE\s+)?(${IDENT}(?:\s*\.\s*${IDENT})?)\s*(?:\(([^()]*)\))?\s*FORMAT\s+([A-Za-z0-9_]+)\s*$`,
  'i',
);
const TRAILING_FORMAT = /\bFORMAT\s+([A-Za-z0-9_]+)\s*;?\s*$/i;

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
