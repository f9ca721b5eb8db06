import type { FastifyInstance } from 'fastify';
import { parseStream } from '../append/appendRequest.js';
import { authorizeRead } from '../append/authority.js';
import { parseReadQuery } from '../read/readPage.js';
import type { StreamReader } from '../read/streamReader.js';
import { type Locate, readPage } from '../read/streamReads.js';
import type { ApiKeys } from './apiKeys.js';
import type { guardRouteSchemas } from './routeSchemas.js';

/**
 * `GET /streams/{stream}/events?fromVersion=&limit=&direction=forwards|backwards`: a page of a stream's events,
 * exact at the guard's committed version (docs/reading.md). Checked in order: the key (401), the stream name (400),
 * read authority over its category (403), the query (400).
 */
export function registerReadRoutes(
  app: FastifyInstance,
  options: {
    keys: ApiKeys;
    locate: Locate;
    reader: StreamReader;
    schemas?: Pick<ReturnType<typeof guardRouteSchemas>, 'readStream'>;
  },
): void {
  const schema = options.schemas ? { schema: options.schemas.readStream } : {};
  app.get<{ Params: { stream: string } }>('/streams/:stream/events', schema, async (request) => {
    const principal = options.keys.authenticateHeaders(request.headers);
    const stream = parseStream(request.params.stream);
    authorizeRead(principal, stream.category);
    const query = parseReadQuery(request.query);
    return readPage(options.locate, options.reader, stream, query);
  });
}
