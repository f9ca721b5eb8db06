import type { StreamName } from '../../pipeline/events/streamName.js';
import type { ReadAnswer, ReadEvent } from './readAnswer.js';
import { pageOf, type ReadQuery } from './readPage.js';
import type { StreamReader } from './streamReader.js';

/** The answer of `GET /streams/{stream}/events` (docs/reading.md). */
export type { ReadAnswer };

export type Locate = (stream: StreamName) => Promise<{ version: number; topic: string; partition: number | undefined }>;

/**
 * A page of a stream, consistent with the guard: the committed version comes from the guard's Redis (as an
 * append's compare-and-swap sees it), so an append answered before the read is in the page; events come from Kafka.
 */
export async function readPage(
  locate: Locate,
  reader: StreamReader,
  stream: StreamName,
  query: ReadQuery,
): Promise<ReadAnswer> {
  const at = await locate(stream);
  const page = pageOf(query, at.version);
  const answer = (events: ReadEvent[]): ReadAnswer => ({
    stream: stream.stream,
    version: at.version,
    direction: query.direction,
    fromVersion: query.direction === 'forwards' ? page.first : page.last,
    limit: query.limit,
    events,
    nextVersion: page.nextVersion,
  });
  if (page.last < page.first || at.partition === undefined) return answer([]);
  const { events } = await reader.read(
    { topic: at.topic, partition: at.partition, stream: stream.stream },
    page.first,
    page.last,
  );
  return answer(query.direction === 'forwards' ? events : events.reverse());
}
