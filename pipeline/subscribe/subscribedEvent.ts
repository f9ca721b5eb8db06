import type { KafkaMessage } from 'kafkajs';
import { KesError } from '../errors.js';
import { decodeHeaders } from '../events/eventRecord.js';
import { parseStreamName } from '../events/streamName.js';
import type { Position } from './position.js';

/** One committed event as a subscription hands it to its handler. */
export interface SubscribedEvent<Data = unknown> {
  stream: string;
  category: string;
  /** The event's version in its stream (0, 1, 2, … without gaps). */
  version: number;
  /** The event id the writer gave (what the guard deduplicates retries by). */
  id: string;
  type: string;
  /** The value decoded with the schema it was written with (fetched from the registry by id, once). */
  data: Data;
  metadata: Record<string, unknown>;
  /** When the guard appended it. */
  time: Date;
  /** The W3C traceparent of the request that appended it (its record's traceparent header), when it had one. */
  traceparent?: string;
  position: Position;
}

/** Why a record cannot be handed over; the subscription stops on it rather than skip it. */
export class Undeliverable {
  constructor(
    readonly reason: string,
    readonly cause?: unknown,
  ) {}
}

/**
 * Turns a committed record into an event, with the kes headers (pipeline/events/eventRecord.ts, as every reader of
 * the log does) and the value's writer schema. A registry that does not answer throws its retriable error (the
 * delivery is tried again); a record that can never be decoded answers Undeliverable.
 */
export async function subscribedEvent(
  position: Position,
  category: string,
  message: KafkaMessage,
  decode: (value: Buffer) => Promise<{ data: unknown }>,
): Promise<SubscribedEvent | Undeliverable> {
  let headers: ReturnType<typeof decodeHeaders>;
  try {
    headers = decodeHeaders(message.headers);
  } catch (error) {
    return new Undeliverable(`malformed kes headers: ${(error as Error).message}`, error);
  }
  if (!headers) return new Undeliverable('not a kes event (ce_subject, kes-version, … headers missing or malformed)');
  const name = parseStreamName(headers.stream);
  if ('error' in name || name.category !== category) {
    return new Undeliverable(`stream '${headers.stream}' does not belong to category '${category}'`);
  }
  if (!message.value) return new Undeliverable('record has no value');
  let data: unknown;
  try {
    data = (await decode(message.value)).data;
  } catch (error) {
    // Only a definite refusal (an id the registry does not know, bytes the schema cannot read) is the record's
    // fault; anything else (the registry away, a network error) is tried again.
    if (!(error instanceof KesError) || error.retriable) throw error;
    return new Undeliverable(`value does not decode: ${(error as Error).message}`, error);
  }
  const event: SubscribedEvent = {
    stream: headers.stream,
    category,
    version: headers.version,
    id: headers.eventId,
    type: headers.type,
    data,
    metadata: headers.metadata ?? {},
    time: new Date(headers.timeMs),
    position,
  };
  if (headers.traceparent !== undefined) event.traceparent = headers.traceparent;
  return event;
}
