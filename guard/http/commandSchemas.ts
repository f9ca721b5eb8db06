import { z } from 'zod';
import { errorResponse } from '../append/errorSchemas.js';
import type { CommandModule } from '../commands/decider.js';
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

/** The command routes' schemas (POST /commands/{category}/{id}, POST /commands, state, modules): see routeSchemas.ts. */

const commandParams = {
  type: 'object',
  required: ['category', 'id'],
  properties: {
    category: { type: 'string', description: 'a category a hosted module owns' },
    id: { type: 'string', description: 'the stream is <category>-<id>' },
  },
} as const;

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

/** The command routes of guardRouteSchemas, with a body schema from the hosted modules' commands. */
export function commandRouteSchemas(modules: readonly CommandModule[]) {
  return {
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
