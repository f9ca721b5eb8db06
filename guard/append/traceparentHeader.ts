import { InvalidRequestError } from '../../pipeline/errors.js';
import { HEADER, parseTraceparent } from '../../pipeline/events/eventRecord.js';

/**
 * An append's or command's W3C `traceparent` request header, written to each event's record and carried into the
 * projected rows. Absent: undefined (the records get no traceparent header). Malformed: a 400 naming the header,
 * rather than dropping it as a tracing middleware would: a client that sends one means its events to carry it, and a
 * trace that silently stops at the guard is harder to find than a refused request.
 */
export const TRACEPARENT_HEADER = HEADER.traceparent;

export function parseTraceparentHeader(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value[0] : value;
  const parsed = parseTraceparent((text ?? '').trim());
  if ('error' in parsed) {
    throw new InvalidRequestError(
      'invalid_header',
      TRACEPARENT_HEADER,
      `${parsed.error}, got ${JSON.stringify(value)}`,
    );
  }
  return parsed.traceparent;
}
