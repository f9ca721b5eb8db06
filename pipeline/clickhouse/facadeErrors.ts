import { parseExceptionCode } from './engine.js';
import { BadQueryParameterError } from './httpParams.js';

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

export function methodNotAllowed(method: string): HttpFacadeError {
  return new HttpFacadeError(48, 'NOT_IMPLEMENTED', 405, `HTTP method ${method} is not supported; use GET or POST`);
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

/** What to answer for a failure: ClickHouse's code, the HTTP status ClickHouse would give, its message. */
export function describeFailure(error: unknown): { code: number; status: number; message: string } {
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
