import { KesError, WrongExpectedVersionError } from '../../pipeline/errors.js';

/** The Postgres store refused a write: the stream was not at the expected version, and nothing was written. */
export class PostgresWrongExpectedVersionError extends WrongExpectedVersionError {
  declare readonly expected: number;
  constructor(stream: string, expected: number, actual: number, cause?: unknown) {
    super(stream, expected, actual);
    if (cause !== undefined) Object.defineProperty(this, 'cause', { value: cause, enumerable: false });
  }
}

/** Postgres is not reachable at the configured POSTGRES_URL. */
export class PostgresUnavailableError extends KesError {
  readonly url: string;
  constructor(url: string, cause?: unknown) {
    const reason = cause instanceof Error && cause.message ? ` (${cause.message})` : '';
    super(
      'KES_SERVICE_UNAVAILABLE',
      `Postgres is not reachable at ${url}${reason}: run \`kes stack up\` (it starts Postgres), or set POSTGRES_URL`,
      { retriable: true, cause, context: { service: 'postgres', address: url } },
    );
    this.url = url;
  }
}

const WRONG_VERSION = /^Wrong expected version: (-?\d+) \(Stream: (.*), Stream Version: (-?\d+)\)$/s;

/**
 * The refusal `write_message` raises, read back from its message (message-db's wording, which carries the
 * stream's version at the time); undefined for any other error.
 */
export function wrongVersionOf(error: unknown): PostgresWrongExpectedVersionError | undefined {
  if (!(error instanceof Error)) return undefined;
  const match = WRONG_VERSION.exec(error.message);
  if (!match?.[1] || match[2] === undefined || !match[3]) return undefined;
  return new PostgresWrongExpectedVersionError(match[2], Number(match[1]), Number(match[3]), error);
}
