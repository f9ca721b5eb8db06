import { z } from 'zod';
import { ATTEMPT_DEADLINE_HEADER } from '../append/attemptDeadline.js';
import { errorResponse } from '../append/errorSchemas.js';
import { TRACEPARENT_HEADER } from '../append/traceparentHeader.js';
import type { CommandModule } from '../commands/decider.js';

/**
 * The guard's route schemas: what each route takes and every status it answers, with the bodies of
 * errorSchemas.ts. They document (the OpenAPI document at /openapi.json is generated from them) and are checked
 * against real answers by test/contract/guardContract.int.test.ts; the routes' own parsers validate the requests.
 * A route added without `response` schemas fails that test's "every route documents its answers".
 */

type Schema = Record<string, unknown>;

const text = { type: 'string' } as const;
const version = { type: 'integer', minimum: -1 } as const;
const security = [{ bearer: [] }, { apiKey: [] }];

const deadlineHeader = {
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

const streamParams = {
  type: 'object',
  required: ['stream'],
  properties: { stream: { type: 'string', description: '<category>-<id>, e.g. account-42' } },
} as const;

const commandParams = {
  type: 'object',
  required: ['category', 'id'],
  properties: {
    category: { type: 'string', description: 'a category a hosted module owns' },
    id: { type: 'string', description: 'the stream is <category>-<id>' },
  },
} as const;

function object(properties: Record<string, Schema>, required: string[] = Object.keys(properties)): Schema {
  return { type: 'object', required, additionalProperties: false, properties };
}

const position = object({ topic: text, partition: { type: 'integer', minimum: 0 }, offset: { type: 'integer' } });

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

const commandResultProperties = {
  stream: text,
  command: text,
  version: { ...version, description: "the stream's version after the command" },
  events: { type: 'array', items: object({ id: text, type: text, version: { type: 'integer', minimum: 0 } }) },
  position,
  attempts: { type: 'integer', minimum: 0 },
  duplicate: { type: 'boolean', description: 'the command id was applied before: nothing new was written' },
};
const commandResultRequired = ['stream', 'command', 'version', 'events', 'attempts'];
const commandResult = object(commandResultProperties, commandResultRequired);
const commandResultWith200 = object({ status: { const: 200 }, ...commandResultProperties }, [
  'status',
  ...commandResultRequired,
]);

/** The command body; `type` and `data` one of the hosted modules' commands, `data` from the module's zod schema. */
function commandBody(modules: readonly CommandModule[]): Schema {
  const commands = modules.flatMap((module) =>
    Object.entries(module.commands).map(([type, schema]) => {
      const { $schema: _, ...data } = z.toJSONSchema(schema as z.ZodType, { io: 'input', unrepresentable: 'any' });
      return {
        type: 'object',
        description: `${module.category}: ${type}`,
        properties: { type: { const: type }, data },
      };
    }),
  );
  return {
    type: 'object',
    required: ['type'],
    additionalProperties: false,
    properties: {
      type: text,
      data: {},
      expectedVersion: { ...version, description: 'decide only on exactly this version (409 otherwise)' },
      commandId: {
        type: 'string',
        pattern: '^[A-Za-z0-9_.:@-]{1,200}$',
        description: 'the same command id is written once: a repeat is answered from its first write',
      },
    },
    ...(commands.length > 0 ? { anyOf: commands } : {}),
  };
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

const badRequest = errorResponse('bad input: `error` says what, `path` where', ['invalid_request']);
const unauthorized = errorResponse('no API key, or an unknown one', ['unauthorized']);
const forbidden = errorResponse("the key's service may not write (or command) this category", ['forbidden']);
const tooLarge = errorResponse('the body or one event is too large', ['too_large']);
const mediaType = errorResponse('the body is not application/json', ['unsupported_media_type']);
const unavailable = errorResponse('not ready (starting, rebuilding) or a service unreachable: nothing written', [
  'not_ready',
  'unavailable',
]);

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
    command: {
      tags: ['commands'],
      summary: 'Run a command of the module that owns the category on stream <category>-<id>',
      security,
      params: commandParams,
      headers: deadlineHeader,
      body: commandBody(modules),
      response: {
        200: { description: 'decided and written (or nothing to do, or a repeated command id)', ...commandResult },
        400: badRequest,
        401: unauthorized,
        403: forbidden,
        409: errorResponse('expectedVersion not met, or conflicts on every attempt', [
          'wrong_expected_version',
          'concurrency_conflict',
        ]),
        413: tooLarge,
        415: mediaType,
        422: errorResponse('refused by the module (a business rule)', ['command_rejected']),
        500: errorResponse('the module threw, or the outcome is unknown', ['module_failed', 'outcome_unknown']),
        503: unavailable,
      },
    },
    commandBatch: {
      tags: ['commands'],
      summary: 'Run many commands in one request: each item like POST /commands/{category}/{id}, answered alone',
      security,
      headers: deadlineHeader,
      body: {
        type: 'object',
        required: ['commands'],
        additionalProperties: false,
        properties: {
          commands: {
            type: 'array',
            minItems: 1,
            description:
              'at most KES_MAX_BATCH_APPENDS commands; each { category, id, type, data, expectedVersion?, commandId? }',
            items: {
              allOf: [object({ category: text, id: text }, ['category', 'id']), commandBody(modules)],
            },
          },
        },
      },
      response: {
        200: {
          description:
            "every command answered, in request order, each with its own status and a single command's body (503 while the guard is not ready)",
          ...object(
            {
              results: {
                type: 'array',
                items: {
                  oneOf: [
                    { ...commandResultWith200 },
                    {
                      type: 'object',
                      required: ['status', 'error', 'message'],
                      properties: { status: { type: 'integer' }, error: text, message: text },
                    },
                  ],
                },
              },
            },
            ['results'],
          ),
        },
        400: badRequest,
        401: unauthorized,
        413: tooLarge,
        415: mediaType,
      },
    },
    commandState: {
      tags: ['commands'],
      summary: 'The state a command would be decided on now, exact at the version it names',
      security,
      params: commandParams,
      response: {
        200: { description: 'the folded state', ...object({ stream: text, version, state: {} }) },
        400: badRequest,
        401: unauthorized,
        403: forbidden,
        500: errorResponse('the module threw while folding', ['module_failed']),
        503: unavailable,
      },
    },
    modules: {
      tags: ['commands'],
      summary: 'The hosted modules and their command types',
      security,
      response: {
        200: {
          description: 'the hosted modules',
          ...object({
            modules: {
              type: 'array',
              items: object({ category: text, service: text, commands: { type: 'array', items: text } }),
            },
          }),
        },
        401: unauthorized,
      },
    },
  };
}
