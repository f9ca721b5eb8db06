import {
  AppendIndeterminateError,
  CommandConflictError,
  CommandRejectedError,
  EventIdConflictError,
  ForbiddenError,
  InvalidRequestError,
  type KesError,
  ModuleError,
  NotReadyError,
  TooLargeError,
  UnauthorizedError,
  WrongExpectedVersionError,
} from '../../pipeline/errors.js';
import type { Expected } from './expectedVersion.js';

/**
 * The one mapping between the guard's errors and its HTTP answers: `errorAnswer` for the server, `errorFromAnswer`
 * for the clients. A status says whether anything could have been written: only 500 outcome_unknown, and a 422 whose
 * module records its refusals, can have written anything. errorAnswers.unit.test.ts round-trips every error.
 *
 * The bodies carry no more than their documented fields (docs/guard.md, docs/commands.md); where a client needs a
 * field the body does not carry (a size, a reason), it is read back from the message the error built.
 */
export interface ErrorAnswer {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

/** An answer as a client received it; `retryAfter` is the Retry-After header, when sent. */
export interface ReceivedAnswer {
  status: number;
  body: Record<string, unknown>;
  retryAfter?: string | null | undefined;
}

export function errorAnswer(error: unknown): ErrorAnswer {
  const answer = (status: number, body: Record<string, unknown>, headers: Record<string, string> = {}) => ({
    status,
    body,
    headers,
  });
  if (error instanceof WrongExpectedVersionError) {
    return answer(409, {
      error: 'wrong_expected_version',
      stream: error.stream,
      expected: error.expected,
      actual: error.actual,
      message: error.message,
    });
  }
  if (error instanceof CommandRejectedError) {
    return answer(422, {
      error: 'command_rejected',
      code: error.reason,
      message: error.message,
      stream: error.stream,
      version: error.version,
    });
  }
  if (error instanceof CommandConflictError) {
    return answer(409, {
      error: 'concurrency_conflict',
      stream: error.stream,
      attempts: error.attempts,
      expected: error.expected,
      actual: error.actual,
      message: error.message,
      retriable: true,
    });
  }
  if (error instanceof ModuleError) return answer(500, { error: 'module_failed', message: error.message });
  if (error instanceof EventIdConflictError) {
    return answer(409, {
      error: 'event_id_conflict',
      stream: error.stream,
      eventId: error.eventId,
      message: error.message,
    });
  }
  if (error instanceof InvalidRequestError) {
    return answer(400, { error: error.error, message: error.message, path: error.path });
  }
  if (error instanceof TooLargeError)
    return answer(413, { error: 'too_large', message: error.message, path: error.path });
  if (error instanceof UnauthorizedError) return answer(401, { error: 'unauthorized', message: error.message });
  if (error instanceof ForbiddenError) return answer(403, { error: 'forbidden', message: error.message });
  if (error instanceof NotReadyError) {
    return answer(
      503,
      { error: 'not_ready', message: error.message, retriable: true },
      { 'Retry-After': String(error.retryAfterS) },
    );
  }
  if (error instanceof AppendIndeterminateError) {
    return answer(500, { error: 'outcome_unknown', message: error.message, retriable: true });
  }
  // Anything else happened before a reservation (a service unreachable while preparing): nothing was written.
  const message = error instanceof Error ? error.message : String(error);
  return answer(503, { error: 'unavailable', message, retriable: true }, { 'Retry-After': '1' });
}

/** The typed error of an answer other than 200 to a request about `stream`. */
export function errorFromAnswer(answer: ReceivedAnswer, stream: string): KesError {
  const { status, body } = answer;
  const code = String(body.error ?? 'unknown');
  const message = String(body.message ?? code);
  const category = stream.split('-')[0] ?? stream;
  if (status === 409 && code === 'wrong_expected_version') {
    return new WrongExpectedVersionError(stream, expectedOf(body.expected), Number(body.actual));
  }
  if (status === 409 && code === 'concurrency_conflict') {
    return new CommandConflictError(stream, Number(body.attempts), Number(body.expected), Number(body.actual));
  }
  if (status === 409 && code === 'event_id_conflict') {
    const eventId = String(body.eventId);
    return new EventIdConflictError(stream, eventId, after(message, `stream ${stream}: event id ${eventId} `));
  }
  if (status === 422) {
    return new CommandRejectedError(String(body.code), after(message, `${stream}: `), {
      stream,
      version: Number(body.version ?? -1),
    });
  }
  if (status === 500 && code === 'outcome_unknown') {
    const reason = /^stream .*?: outcome unknown \((.*)\); retry with the same event ids$/s.exec(message)?.[1];
    return new AppendIndeterminateError(stream, reason ?? message);
  }
  if (status === 500 && code === 'module_failed') {
    return new ModuleError(category, stream, after(message, `module ${category}, stream ${stream}: `));
  }
  if (status === 401) return new UnauthorizedError(message);
  if (status === 403) {
    const [, service, action, owner] = /^service '(.*)' may not (.+) category '(.*)'$/s.exec(message) ?? [];
    return new ForbiddenError(service ?? 'this key', owner ?? category, action);
  }
  if (status === 413) {
    const path = String(body.path ?? 'body');
    const [, size, limit] = /: (\d+) bytes exceeds the limit of (\d+)$/.exec(message) ?? [];
    return new TooLargeError(path, Number(size ?? 0), Number(limit ?? 0));
  }
  if (status === 503) return new NotReadyError(after(message, 'guard not ready: '), retryAfterOf(answer.retryAfter));
  const path = String(body.path ?? '');
  return new InvalidRequestError(code, path, after(message, `${path}: `));
}

function expectedOf(value: unknown): Expected {
  return value === 'any' || value === 'no_stream' || value === 'stream_exists' ? value : Number(value);
}

/** `message` without the prefix its error's constructor adds again. */
function after(message: string, prefix: string): string {
  return message.startsWith(prefix) ? message.slice(prefix.length) : message;
}

function retryAfterOf(header: string | null | undefined): number {
  const seconds = Number(header ?? 1);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : 1;
}
