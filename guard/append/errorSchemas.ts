/**
 * The JSON schemas of the guard's error bodies, one per `error` code, as errorAnswers.ts builds them (and fastify's
 * own refusals, answered in the same shape by the server). The OpenAPI document shows them under each route's
 * statuses; errorAnswers.unit.test.ts checks every error's body against the schema of its code, and
 * test/contract/guardContract.int.test.ts checks real answers. Plain data: the typed clients import nothing heavy.
 */
type Schema = Record<string, unknown>;

const text = { type: 'string' } as const;
const expected = {
  description: 'a version (-1: no events yet), or any, no_stream, stream_exists',
  oneOf: [{ type: 'integer', minimum: -1 }, { enum: ['any', 'no_stream', 'stream_exists'] }],
} as const;

/** `code` is the body's `error`: one code, or a schema for several. */
function body(code: string | Schema, properties: Record<string, Schema>, required: string[]): Schema {
  return {
    type: 'object',
    required: ['error', 'message', ...required],
    additionalProperties: false,
    properties: { error: typeof code === 'string' ? { const: code } : code, message: text, ...properties },
  };
}

const retriable = { retriable: { const: true } };

/** Every error body the guard answers, by its `error` code. */
export const errorBodies = {
  /** 400: a bad request; `error` is the code of what is wrong, `path` where (`events[2].data.amount`). */
  invalid_request: body(
    {
      type: 'string',
      description: 'what is wrong: invalid_stream_name, missing_field, unknown_field, malformed_body, …',
    },
    { path: text },
    ['path'],
  ),
  unauthorized: body('unauthorized', {}, []),
  forbidden: body('forbidden', {}, []),
  not_found: body('not_found', { path: text }, ['path']),
  wrong_expected_version: body(
    'wrong_expected_version',
    { stream: text, expected, actual: { type: 'integer', minimum: -1 } },
    ['stream', 'expected', 'actual'],
  ),
  event_id_conflict: body('event_id_conflict', { stream: text, eventId: text }, ['stream', 'eventId']),
  concurrency_conflict: body(
    'concurrency_conflict',
    {
      stream: text,
      attempts: { type: 'integer', minimum: 1 },
      expected: { type: 'integer', minimum: -1 },
      actual: { type: 'integer', minimum: -1 },
      ...retriable,
    },
    ['stream', 'attempts', 'expected', 'actual', 'retriable'],
  ),
  too_large: body('too_large', { path: text }, ['path']),
  unsupported_media_type: body('unsupported_media_type', { path: text }, ['path']),
  command_rejected: body('command_rejected', { code: text, stream: text, version: { type: 'integer', minimum: -1 } }, [
    'code',
    'stream',
    'version',
  ]),
  module_failed: body('module_failed', {}, []),
  outcome_unknown: body('outcome_unknown', retriable, ['retriable']),
  not_ready: body('not_ready', retriable, ['retriable']),
  unavailable: body('unavailable', retriable, ['retriable']),
} satisfies Record<string, Schema>;

export type ErrorCode = keyof typeof errorBodies;

/** The body of an answer that may be any of `codes`, described for the OpenAPI document. */
export function errorResponse(description: string, codes: readonly ErrorCode[]): Schema {
  const [only] = codes;
  const shape = codes.length === 1 && only ? errorBodies[only] : { oneOf: codes.map((c) => errorBodies[c]) };
  return { description, ...shape };
}
