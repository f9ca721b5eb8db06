import type { FastifyPluginAsync } from 'fastify';
import type { ClickHouseEngine } from '../../pipeline/clickhouse/engine.js';
import { parseStreamName } from '../../pipeline/events/streamName.js';
import { schemasDocumentOnly } from '../../pipeline/http/httpApp.js';
import { qualified } from '../readModels/projection.js';
import { ReportOptionError, shown } from '../reports/reportErrors.js';
import { parseLimit, type RawOptions } from '../reports/reportOptions.js';
import { readModels, typed } from '../reports/runReport.js';
import { answerReadErrors } from './readErrors.js';
import { CONSISTENCY_HEADER, refuse } from './reportRoutes.js';
import { streamEventsSchema } from './routeSchemas.js';

export interface StreamRoutesOptions {
  /** The read-model engine (the projector's own, or any from openEngine). */
  engine: ClickHouseEngine;
  /** The database of the serving views (KES_CLICKHOUSE_DATABASE). */
  database: string;
  /** Events per page when `limit` is not given (default 100). */
  defaultLimit?: number;
  /** Largest `limit` (default 1000). */
  maxLimit?: number;
}

/** One event of a stream as the read model holds it. */
export interface StreamEvent {
  version: number;
  id: string;
  type: string;
  /** When the guard appended it, ISO-8601 UTC. */
  time: string;
  /** The event data (decoded from Avro), parsed JSON. */
  data: unknown;
  metadata: unknown;
  position: { topic: string; partition: number; offset: number };
}

export interface StreamEventsPage {
  stream: string;
  from: number;
  events: StreamEvent[];
  /** The `from` of the next page when the read model has more events now; null when this page ends it. */
  next: number | null;
  consistency: 'eventual';
}

const NOTE =
  'eventual: the events read model, which shows an event once a projector has projected it; the log (and the guard) may already have later versions';

/**
 * `GET /streams/:stream/events?from=<version>&limit=<n>`: a stream's events in version order, from the `events`
 * read model (exact: a batch projected twice never shows an event twice). This is an eventually consistent read:
 * it trails the log by the projector's lag, says so in the `x-kes-consistency: eventual` header and the
 * `consistency` field, and answers an empty page (not 404) for a stream it has not seen yet. Writers that need
 * the current version use the guard's compare-and-swap, never this read.
 *
 * Bad input is a 400 `{error: 'invalid_option', message, option, choices}` (`stream`, `from`, `limit`, or an
 * unknown parameter); nothing runs. Register with `app.register(streamRoutes, { engine, database })`.
 */
export const streamRoutes: FastifyPluginAsync<StreamRoutesOptions> = async (app, options) => {
  schemasDocumentOnly(app);
  answerReadErrors(app);
  const defaultLimit = options.defaultLimit ?? 100;
  const maxLimit = options.maxLimit ?? 1000;
  const events = qualified(options.database, 'events');

  app.get<{ Params: { stream: string }; Querystring: RawOptions }>(
    '/streams/:stream/events',
    { schema: streamEventsSchema },
    async (request, reply) => {
      reply.header(CONSISTENCY_HEADER, 'eventual');
      try {
        const name = parseStreamName(request.params.stream);
        if ('error' in name) {
          throw new ReportOptionError(
            'stream',
            request.params.stream,
            `${shown(request.params.stream)}: ${name.error}`,
            ['category-id'],
          );
        }
        const query = singleValues(request.query ?? {}, ['from', 'limit']);
        const from = query.from === undefined ? 0 : parseVersion(query.from);
        const limit = query.limit === undefined ? defaultLimit : parseLimit(query.limit, maxLimit);
        const rows = await readModels(options.database, () =>
          options.engine.query<Record<string, unknown>>(
            `SELECT version, event_id, type, time, data, metadata, topic, partition, offset
             FROM ${events}
             WHERE category = {category:String} AND stream = {stream:String} AND version >= {from:UInt64}
             ORDER BY version
             LIMIT {limit:UInt32}`,
            { category: name.category, stream: name.stream, from, limit: limit + 1 },
          ),
        );
        const page = rows.slice(0, limit).map(toEvent);
        const body: StreamEventsPage & { note: string } = {
          stream: name.stream,
          from,
          events: page,
          next: rows.length > limit ? (page.at(-1)?.version ?? from) + 1 : null,
          consistency: 'eventual',
          note: NOTE,
        };
        return body;
      } catch (error) {
        return refuse(reply, error);
      }
    },
  );
};

/** Query parameters among `accepted`, each given once. */
function singleValues(query: RawOptions, accepted: readonly string[]): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (!accepted.includes(name)) throw new ReportOptionError(name, undefined, 'not a parameter here', accepted, true);
    if (typeof value !== 'string') throw new ReportOptionError(name, undefined, 'given more than once', ['one value']);
    values[name] = value;
  }
  return values;
}

/** A stream version: 0 or a positive integer, in plain decimal digits. */
export function parseVersion(text: string): number {
  const n = /^\d{1,15}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n)) {
    throw new ReportOptionError('from', text, `${shown(text)} is not a stream version`, ['0, 1, 2, …']);
  }
  return n;
}

function toEvent(row: Record<string, unknown>): StreamEvent {
  return {
    version: Number(row.version),
    id: String(row.event_id),
    type: String(row.type),
    time: String(typed('time', row.time)),
    data: json(row.data),
    metadata: json(row.metadata),
    position: { topic: String(row.topic), partition: Number(row.partition), offset: Number(row.offset) },
  };
}

/** The stored JSON text parsed; text that is not JSON (never written by kes) is passed through as a string. */
function json(value: unknown): unknown {
  try {
    return JSON.parse(String(value));
  } catch {
    return value;
  }
}
