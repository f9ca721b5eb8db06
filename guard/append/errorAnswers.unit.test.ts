import Ajv2020 from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import {
  AppendIndeterminateError,
  CommandConflictError,
  CommandRejectedError,
  EventIdConflictError,
  FencedError,
  ForbiddenError,
  InvalidRequestError,
  type KesError,
  ModuleError,
  NotReadyError,
  TooLargeError,
  UnauthorizedError,
  WrongExpectedVersionError,
} from '../../pipeline/errors.js';
import { type ErrorAnswer, errorAnswer, errorFromAnswer } from './errorAnswers.js';
import { type ErrorCode, errorBodies } from './errorSchemas.js';

const EVENT_ID = '0b6e7c4a-4f3e-4d8e-9a51-2f0c3e1d5a01';

/** Every error the guard answers with its own status, the stream the request was about, and that status. */
const answered: [KesError, string, number][] = [
  [new WrongExpectedVersionError('order-1', 5, 0), 'order-1', 409],
  [new WrongExpectedVersionError('order-1', 'no_stream', 3), 'order-1', 409],
  [new WrongExpectedVersionError('order-1', 'stream_exists', -1), 'order-1', 409],
  [new CommandConflictError('account-a', 5, 3, 4), 'account-a', 409],
  [new EventIdConflictError('order-1', EVENT_ID, 'already belongs to stream order-2'), 'order-1', 409],
  [
    new CommandRejectedError('insufficient_funds', 'balance 10 < 50', { stream: 'account-a', version: 3 }),
    'account-a',
    422,
  ],
  [
    new InvalidRequestError('schema_mismatch', 'events[2].data.amount', 'does not match Paid: expected a long'),
    'order-1',
    400,
  ],
  [new InvalidRequestError('invalid_stream_name', 'stream', 'a category, a dash, an id'), 'order-1', 400],
  [new TooLargeError('events[0]', 70_000, 65_536), 'order-1', 413],
  [new UnauthorizedError(), 'order-1', 401],
  [new ForbiddenError('orders', 'invoice'), 'invoice-7', 403],
  [new ForbiddenError('transfers', 'invoice', 'send commands to'), 'invoice-7', 403],
  [new NotReadyError('validating state'), 'order-1', 503],
  [new NotReadyError('rebuilding from Kafka', 5), 'order-1', 503],
  [new AppendIndeterminateError('order-1', 'the commit timed out'), 'order-1', 500],
  [new ModuleError('account', 'account-a', 'decide threw: boom'), 'account-a', 500],
];

/** What a client receives: the body through JSON, the Retry-After header by its name. */
function received(answer: ErrorAnswer): { status: number; body: Record<string, unknown>; retryAfter?: string } {
  const body = JSON.parse(JSON.stringify(answer.body)) as Record<string, unknown>;
  const retryAfter = answer.headers['Retry-After'];
  return retryAfter === undefined ? { status: answer.status, body } : { status: answer.status, body, retryAfter };
}

/** The class, the message, and every field the error carries besides its context. */
function fields(error: KesError): Record<string, unknown> {
  const { context: _context, ...own } = { ...error };
  return { ...own, class: error.constructor, message: error.message };
}

describe('errorAnswer -> errorFromAnswer', () => {
  it.each(answered)('%s round-trips (status %#)', (error, stream, status) => {
    const answer = errorAnswer(error);
    expect(answer.status).toBe(status);
    const back = errorFromAnswer(received(answer), stream);
    expect(fields(back)).toEqual(fields(error));
  });

  it('every status answered for an error is one a client maps back to the same class', () => {
    for (const [error, stream] of answered) {
      expect(errorFromAnswer(received(errorAnswer(error)), stream)).toBeInstanceOf(error.constructor);
    }
  });
});

describe('errorAnswer: every body matches the schema the OpenAPI document shows for its code', () => {
  const ajv = new Ajv2020.default({ strict: false, allErrors: true });
  const errors: unknown[] = [...answered.map(([error]) => error), new Error('Kafka unreachable')];
  it.each(errors)('%s', (error) => {
    const { status, body } = errorAnswer(error);
    const code = status === 400 ? 'invalid_request' : (String(body.error) as ErrorCode);
    const validate = ajv.compile(errorBodies[code]);
    expect(validate(JSON.parse(JSON.stringify(body))), ajv.errorsText(validate.errors)).toBe(true);
  });
});

describe('errorAnswer: the bodies the API documents', () => {
  it('409 wrong_expected_version names the stream, expected and actual', () => {
    const error = new WrongExpectedVersionError('order-1', 5, 0);
    expect(errorAnswer(error)).toStrictEqual({
      status: 409,
      body: { error: 'wrong_expected_version', stream: 'order-1', expected: 5, actual: 0, message: error.message },
      headers: {},
    });
  });

  it('400 carries the refusal code and the path of the field', () => {
    const error = new InvalidRequestError('schema_mismatch', 'events[2].data.amount', 'does not match');
    expect(errorAnswer(error).body).toStrictEqual({
      error: 'schema_mismatch',
      message: 'events[2].data.amount: does not match',
      path: 'events[2].data.amount',
    });
  });

  it('503 not_ready says when to retry', () => {
    expect(errorAnswer(new NotReadyError('validating state', 4))).toStrictEqual({
      status: 503,
      body: { error: 'not_ready', message: 'guard not ready: validating state', retriable: true },
      headers: { 'Retry-After': '4' },
    });
  });

  it('422 command_rejected carries the module code and the version it was decided on', () => {
    const error = new CommandRejectedError('insufficient_funds', 'balance 10 < 50', {
      stream: 'account-a',
      version: 3,
    });
    expect(errorAnswer(error).body).toStrictEqual({
      error: 'command_rejected',
      code: 'insufficient_funds',
      message: 'account-a: balance 10 < 50',
      stream: 'account-a',
      version: 3,
    });
  });

  it('409 concurrency_conflict is retriable', () => {
    expect(errorAnswer(new CommandConflictError('account-a', 5, 3, 4)).body).toMatchObject({
      error: 'concurrency_conflict',
      attempts: 5,
      expected: 3,
      actual: 4,
      retriable: true,
    });
  });

  it.each([
    ['another retriable error', new FencedError('kes-guard-1')],
    ['an error of no kind kes knows', new Error('connect ECONNREFUSED')],
    ['something thrown that is not an error', 'boom'],
  ])('%s: 503 unavailable, nothing was written; a client retries it as not ready', (_what, thrown) => {
    const answer = errorAnswer(thrown);
    expect(answer).toStrictEqual({
      status: 503,
      body: {
        error: 'unavailable',
        message: thrown instanceof Error ? thrown.message : String(thrown),
        retriable: true,
      },
      headers: { 'Retry-After': '1' },
    });
    const back = errorFromAnswer(received(answer), 'order-1');
    expect(back).toBeInstanceOf(NotReadyError);
    expect(back.retriable).toBe(true);
  });
});

describe('errorFromAnswer: answers not made by errorAnswer', () => {
  it("Fastify's refusals: too large, media type, malformed JSON", () => {
    const tooLarge = errorFromAnswer(
      { status: 413, body: { error: 'too_large', message: 'request body exceeds the limit', path: 'body' } },
      'order-1',
    );
    expect(tooLarge).toBeInstanceOf(TooLargeError);
    expect((tooLarge as TooLargeError).path).toBe('body');
    const media = errorFromAnswer(
      {
        status: 415,
        body: { error: 'unsupported_media_type', message: 'send application/json', path: 'content-type' },
      },
      'order-1',
    );
    expect(media).toMatchObject({ error: 'unsupported_media_type', path: 'content-type' });
    expect(media).toBeInstanceOf(InvalidRequestError);
  });

  it('an unknown route is an invalid request naming the url', () => {
    const error = errorFromAnswer(
      { status: 404, body: { error: 'not_found', message: 'no route GET /nope', path: 'url' } },
      'order-1',
    );
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.message).toBe('url: no route GET /nope');
  });

  it('a Retry-After that is not a number counts as 1 s', () => {
    const error = errorFromAnswer(
      { status: 503, body: { error: 'not_ready', message: 'guard not ready: x' }, retryAfter: 'soon' },
      'order-1',
    );
    expect(error).toMatchObject({ retryAfterS: 1, message: 'guard not ready: x' });
  });
});
