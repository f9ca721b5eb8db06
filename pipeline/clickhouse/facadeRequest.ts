import { RAW_INSERT_FORMATS } from './embeddedEngine.js';
import { HttpFacadeError } from './facadeErrors.js';

/**
 * What a request to the HTTP facade (httpFacade.ts) asks, read from its URL parameters and multipart parts the way
 * ClickHouse's HTTP interface reads them; every refusal is an HttpFacadeError with ClickHouse's code.
 */
export interface FacadeRequest {
  query: string | undefined;
  database: string | undefined;
  defaultFormat: string | undefined;
  queryId: string | undefined;
  params: Map<string, string>;
  settings: Record<string, string>;
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

export function parseUrlParams(search: URLSearchParams): FacadeRequest {
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

export function mergeMultipart(request: FacadeRequest, parts: Map<string, string>): void {
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

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A body as text; anything but UTF-8 is refused (raw inserts take bytes, and never come here). */
export function decodeUtf8(body: Buffer): string {
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
