/**
 * The projector's route schemas: every status each route answers, with its body. They document (the OpenAPI
 * document at /openapi.json is generated from them) and are checked against real answers by
 * test/contract/projectorContract.int.test.ts; the routes' own parsers validate the requests.
 */
type Schema = Record<string, unknown>;

const text = { type: 'string' } as const;
const texts = { type: 'array', items: text } as const;

function object(properties: Record<string, Schema>, required: string[] = Object.keys(properties)): Schema {
  return { type: 'object', required, additionalProperties: false, properties };
}

const refusal = (code: string) => object({ error: { const: code }, message: text, option: text, choices: texts });
const invalidOption = {
  description: 'a bad parameter: `option` names it, `choices` lists valid ones',
  ...refusal('invalid_option'),
};
const readModelsMissing = {
  description: 'this database has no read models (no projector has run on it)',
  ...object({ error: { const: 'read_models_missing' }, message: text }),
};
/** 500 from a read route (readErrors.ts): the body readFailedBody builds. */
export const readFailed = {
  description: 'the read models could not be read (ClickHouse unreachable or failing): `message` says why; retry later',
  ...object({ error: { const: 'read_failed' }, message: text, retriable: { const: true } }),
};
const eventual = {
  'x-kes-consistency': { type: 'string', const: 'eventual', description: 'read models trail the log' },
} as const;
const column = object({
  name: text,
  kind: { enum: ['text', 'count', 'amount', 'percent', 'minute', 'hour', 'day', 'time'] },
});
const cell = { type: ['string', 'number', 'boolean', 'null'] } as const;

export const projectionsSchema = {
  tags: ['projections'],
  summary: 'The projections this process runs, with their versions, consumer groups and partitions',
  response: {
    200: {
      description: 'what this process runs',
      ...object({
        projections: {
          type: 'array',
          items: object(
            {
              projection: text,
              version: { type: 'integer', minimum: 1 },
              group: text,
              topics: texts,
              assignedPartitions: { type: 'integer', minimum: 0 },
              running: { type: 'boolean' },
            },
            ['projection', 'topics', 'assignedPartitions', 'running'],
          ),
        },
      }),
    },
  },
} as const;

export const reportListSchema = {
  tags: ['reports'],
  summary: 'Every report: description, options (defaults, bounds, choices), columns',
  response: {
    200: {
      description: 'the reports',
      headers: eventual,
      ...object({
        reports: {
          type: 'array',
          items: object({
            name: text,
            description: text,
            options: {
              type: 'array',
              items: object(
                {
                  name: text,
                  description: text,
                  default: { type: ['string', 'null'] },
                  choices: texts,
                  max: { type: 'integer' },
                },
                ['name', 'description', 'default'],
              ),
            },
            columns: { type: 'array', items: column },
          }),
        },
      }),
    },
  },
} as const;

export const reportSchema = {
  tags: ['reports'],
  summary: 'Run a report: the same rows `kes report <name> --format json` prints',
  params: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
  querystring: {
    type: 'object',
    properties: {
      from: { type: 'string', description: 'ISO time or relative to to/now (-15m)' },
      to: { type: 'string' },
      category: text,
      limit: { type: 'string', pattern: '^\\d+$' },
      by: text,
      format: { const: 'json' },
    },
  },
  response: {
    200: {
      description: 'the rows',
      headers: eventual,
      ...object({
        report: text,
        from: { type: ['string', 'null'] },
        to: { type: ['string', 'null'] },
        options: { type: 'object' },
        columns: { type: 'array', items: column },
        rows: { type: 'array', items: { type: 'object', additionalProperties: cell } },
      }),
    },
    400: invalidOption,
    404: { description: 'no report of this name: `choices` lists them', ...refusal('unknown_report') },
    500: readFailed,
    503: readModelsMissing,
  },
} as const;

export const streamEventsSchema = {
  tags: ['streams'],
  summary: "A stream's events from the events read model (eventually consistent; the guard's read is exact)",
  params: { type: 'object', required: ['stream'], properties: { stream: { type: 'string' } } },
  querystring: {
    type: 'object',
    properties: { from: { type: 'string', pattern: '^\\d+$' }, limit: { type: 'string', pattern: '^\\d+$' } },
  },
  response: {
    200: {
      description: 'a page of events in version order (empty for a stream not projected yet)',
      headers: eventual,
      ...object({
        stream: text,
        from: { type: 'integer', minimum: 0 },
        events: {
          type: 'array',
          items: object({
            version: { type: 'integer', minimum: 0 },
            id: text,
            type: text,
            time: text,
            data: {},
            metadata: {},
            position: object({ topic: text, partition: { type: 'integer' }, offset: { type: 'integer' } }),
          }),
        },
        next: { type: ['integer', 'null'] },
        consistency: { const: 'eventual' },
        note: text,
      }),
    },
    400: invalidOption,
    500: readFailed,
    503: readModelsMissing,
  },
} as const;
