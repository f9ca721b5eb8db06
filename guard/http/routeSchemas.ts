import { errorResponse } from '../append/errorSchemas.js';
import type { CommandModule } from '../commands/decider.js';
import { commandRouteSchemas } from './commandSchemas.js';
import {
  badRequest,
  deadlineHeader,
  forbidden,
  mediaType,
  object,
  position,
  type Schema,
  security,
  text,
  tooLarge,
  unauthorized,
  unavailable,
  version,
} from './schemaParts.js';

/**
 * The guard's route schemas: what each route takes and every status it answers, with the bodies of
 * errorSchemas.ts. They document (the OpenAPI document at /openapi.json is generated from them) and are checked
 * against real answers by test/contract/guardContract.int.test.ts; the routes' own parsers validate the requests.
 * A route added without `response` schemas fails that test's "every route documents its answers". The stream routes
 * are here, the command routes in commandSchemas.ts, and what both use in schemaParts.ts.
 */

const streamParams = {
  type: 'object',
  required: ['stream'],
  properties: { stream: { type: 'string', description: '<category>-<id>, e.g. account-42' } },
} as const;

const appendAnswerProperties = {
  stream: text,
  firstVersion: { type: 'integer', minimum: 0 },
  lastVersion: { type: 'integer', minimum: 0 },
  topic: text,
  partition: { type: 'integer', minimum: 0 },
  offset: { type: 'integer', minimum: 0, description: "the offset of the append's last event" },
  duplicate: { const: true, description: 'answered from an earlier write of the same event ids' },
};

const appendAnswer = object(appendAnswerProperties, [
  'stream',
  'firstVersion',
  'lastVersion',
  'topic',
  'partition',
  'offset',
]);

const appendBody = {
  type: 'object',
  required: ['expectedVersion', 'events'],
  additionalProperties: false,
  properties: {
    expectedVersion: {
      description: 'the version the stream must be at (-1: no events), or any, no_stream, stream_exists',
      oneOf: [{ type: 'integer', minimum: -1 }, { enum: ['any', 'no_stream', 'stream_exists'] }],
    },
    events: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['type', 'data'],
        additionalProperties: false,
        properties: {
          id: { type: 'string', description: 'the event id (a UUID); retrying with the same ids never writes twice' },
          type: { type: 'string', description: 'a registered event type; data is checked against its Avro schema' },
          data: { type: 'object' },
          metadata: { type: 'object' },
        },
      },
    },
  },
} as const;

const batchBody = {
  type: 'object',
  required: ['appends'],
  additionalProperties: false,
  properties: {
    appends: {
      type: 'array',
      minItems: 1,
      description: 'at most KES_MAX_BATCH_APPENDS (default 1000) appends, each exactly like a single append',
      items: {
        ...appendBody,
        required: ['stream', ...appendBody.required],
        properties: { stream: { type: 'string', description: '<category>-<id>' }, ...appendBody.properties },
      },
    },
    atomic: {
      type: 'boolean',
      default: false,
      description: 'true: every append in one Kafka transaction, all expected versions checked together, or none',
    },
  },
} as const;

/** One item's answer: a single append's answer (or error body) with its own status. */
const batchItem = {
  oneOf: [
    object({ status: { const: 200 }, ...appendAnswerProperties }, [
      'status',
      'stream',
      'firstVersion',
      'lastVersion',
      'topic',
      'partition',
      'offset',
    ]),
    {
      type: 'object',
      required: ['status', 'error', 'message'],
      description:
        "an error body as a single append's (path from the request root: appends[3].events[0].data.amount), or batch_aborted",
      properties: { status: { type: 'integer' }, error: text, message: text },
    },
  ],
} as const;

const batchAnswer = object({ results: { type: 'array', items: batchItem } }, ['results']);

/** A status answered either for the whole request (an error body) or by an atomic batch (its results). */
function orBatch(description: string, whole: Schema): Schema {
  const { description: _, ...shape } = whole;
  return { description, oneOf: [shape, batchAnswer] };
}

const readQuery = {
  type: 'object',
  properties: {
    fromVersion: {
      type: 'string',
      pattern: '^\\d+$',
      description: "the page's first version (forwards) or last (backwards); default the stream's start or end",
    },
    limit: { type: 'string', pattern: '^\\d+$', description: 'at most this many events, 1 to 1000 (default 100)' },
    direction: { enum: ['forwards', 'backwards'], description: 'default forwards' },
  },
} as const;

const readEvent = object(
  {
    version: { type: 'integer', minimum: 0 },
    id: text,
    type: text,
    data: { type: 'object' },
    metadata: { type: 'object' },
    time: { type: 'string', description: 'the append time, ISO 8601' },
    position,
  },
  ['version', 'id', 'type', 'data', 'time', 'position'],
);

const readAnswer = object({
  stream: text,
  version: { ...version, description: "the stream's committed version when the page was read (-1: no events)" },
  direction: { enum: ['forwards', 'backwards'] },
  fromVersion: { type: 'integer', minimum: -1 },
  limit: { type: 'integer', minimum: 1 },
  events: { type: 'array', items: readEvent },
  nextVersion: {
    oneOf: [{ type: 'integer', minimum: 0 }, { type: 'null' }],
    description: 'the fromVersion of the next page; null at the stream end (or start, backwards)',
  },
});

export function guardRouteSchemas(modules: readonly CommandModule[]) {
  return {
    append: {
      tags: ['streams'],
      summary: 'Append events to a stream if it is at the expected version (compare-and-swap)',
      security,
      params: streamParams,
      headers: deadlineHeader,
      body: appendBody,
      response: {
        200: { description: 'written (or answered from the first write of the same ids)', ...appendAnswer },
        400: badRequest,
        401: unauthorized,
        403: forbidden,
        409: errorResponse('definite refusal, never written', ['wrong_expected_version', 'event_id_conflict']),
        413: tooLarge,
        415: mediaType,
        500: errorResponse('the outcome is unknown: retry with the same event ids', ['outcome_unknown']),
        503: unavailable,
      },
    },
    appendBatch: {
      tags: ['streams'],
      summary: 'Append to many streams in one request: independent items, or an atomic batch (all or none)',
      security,
      headers: deadlineHeader,
      body: batchBody,
      response: {
        200: { description: 'every item answered, in request order, each with its own status', ...batchAnswer },
        400: orBatch('a malformed top level (path: appends, atomic), or an atomic batch with a bad item', badRequest),
        401: unauthorized,
        403: { description: 'an atomic batch with an item its key may not write', ...batchAnswer },
        409: {
          description: 'an atomic batch refused (conflict): nothing written, other items batch_aborted',
          ...batchAnswer,
        },
        413: orBatch('the body too large, or an event of an atomic batch', tooLarge),
        415: mediaType,
        500: {
          description: "an atomic batch's outcome unknown: retry it whole with the same event ids",
          ...batchAnswer,
        },
        503: orBatch('not ready: nothing written (or an atomic batch that could not be written in time)', unavailable),
      },
    },
    streamVersion: {
      tags: ['streams'],
      summary: "A stream's committed version (-1: no events)",
      security,
      params: streamParams,
      response: {
        200: { description: 'the committed version', ...object({ stream: text, version }) },
        400: badRequest,
        401: unauthorized,
        503: unavailable,
      },
    },
    readStream: {
      tags: ['streams'],
      summary: "A page of a stream's events, exact at the committed version (docs/reading.md)",
      security,
      params: streamParams,
      querystring: readQuery,
      response: {
        200: { description: 'the page (an unknown stream: an empty page at version -1)', ...readAnswer },
        400: badRequest,
        401: unauthorized,
        403: errorResponse("the key's service may not read this category", ['forbidden']),
        503: unavailable,
      },
    },
    ...commandRouteSchemas(modules),
  };
}
