import { ATTEMPT_DEADLINE_HEADER } from '../append/attemptDeadline.js';
import { errorResponse } from '../append/errorSchemas.js';
import { TRACEPARENT_HEADER } from '../append/traceparentHeader.js';

/** What the guard's route schemas (routeSchemas.ts, commandSchemas.ts) share: scalars, headers, objects, errors. */

export type Schema = Record<string, unknown>;

export const text = { type: 'string' } as const;
export const version = { type: 'integer', minimum: -1 } as const;
export const security = [{ bearer: [] }, { apiKey: [] }];

export const deadlineHeader = {
  type: 'object',
  properties: {
    [ATTEMPT_DEADLINE_HEADER]: {
      type: 'string',
      pattern: '^\\d{1,16}$',
      description: 'epoch ms after which the client gives up on this attempt: the guard never reserves it later',
    },
    [TRACEPARENT_HEADER]: {
      type: 'string',
      description:
        'W3C trace context (00-<32 hex>-<16 hex>-<2 hex>): written to each event record and projected row; malformed: 400',
    },
  },
} as const;

export function object(properties: Record<string, Schema>, required: string[] = Object.keys(properties)): Schema {
  return { type: 'object', required, additionalProperties: false, properties };
}

export const position = object({
  topic: text,
  partition: { type: 'integer', minimum: 0 },
  offset: { type: 'integer' },
});

export const badRequest = errorResponse('bad input: `error` says what, `path` where', ['invalid_request']);
export const unauthorized = errorResponse('no API key, or an unknown one', ['unauthorized']);
export const forbidden = errorResponse("the key's service may not write (or command) this category", ['forbidden']);
export const tooLarge = errorResponse('the body or one event is too large', ['too_large']);
export const mediaType = errorResponse('the body is not application/json', ['unsupported_media_type']);
export const unavailable = errorResponse('not ready (starting, rebuilding) or a service unreachable: nothing written', [
  'not_ready',
  'unavailable',
]);
