import type { KafkaMessage } from 'kafkajs';
import { decodeHeaders } from '../../pipeline/events/eventRecord.js';
import type { AppliedEvent } from '../protocol/redisState.js';

/**
 * What a committed record read back from Kafka tells Redis: its stream is at least at its version, and its id belongs
 * in the idempotency window at this offset with this content hash, aged by its event time (not the time it was read,
 * so a rebuild does not keep old ids longer than the window). Records without kes headers (written by something
 * else) tell nothing.
 */
export function appliedEventOf(message: Pick<KafkaMessage, 'headers' | 'offset'>): AppliedEvent | undefined {
  const h = decodeHeaders(message.headers);
  if (!h) return undefined;
  return {
    id: h.eventId,
    stream: h.stream,
    version: h.version,
    offset: Number(message.offset),
    hash: h.contentHash,
    timeMs: h.timeMs,
  };
}
