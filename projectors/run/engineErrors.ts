import { ClickHouseQueryError } from '../../pipeline/clickhouse/engine.js';
import { KesError } from '../../pipeline/errors.js';

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'UND_ERR_SOCKET']);
/** ClickHouse error codes a later try can get past: timeouts, overload, a table read-only while it starts. */
const RETRIABLE_CLICKHOUSE_CODES = new Set([159, 160, 202, 203, 209, 210, 241, 242, 252, 319, 394, 999]);

/**
 * Whether a failed write to ClickHouse (or a decode that needed the registry) may succeed if tried again unchanged:
 * the engine restarting, a connection dropped, a timeout. Errors in the SQL or the data are not retriable.
 */
export function isRetriable(error: unknown): boolean {
  if (error instanceof KesError) return error.retriable;
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    if (typeof code === 'string' && /^\d+$/.test(code) && RETRIABLE_CLICKHOUSE_CODES.has(Number(code))) return true;
    if (typeof code === 'number' && RETRIABLE_CLICKHOUSE_CODES.has(code)) return true;
    if (
      typeof message === 'string' &&
      /socket hang up|ECONNREFUSED|ECONNRESET|Timeout error|other side closed/i.test(message)
    ) {
      return true;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

export function isUnknownTable(error: unknown): boolean {
  const text = error instanceof ClickHouseQueryError ? error.message : String((error as Error)?.message ?? error);
  return /UNKNOWN_TABLE|Code: 60\b|doesn't exist/i.test(text);
}
