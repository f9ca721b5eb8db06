import type { Direction } from './readPage.js';

/**
 * The answer of `GET /streams/{stream}/events`, as the route sends it and GuardClient.readStream returns it. Types
 * only, apart from the reader: the typed clients import them without loading Kafka or Redis.
 */
export interface ReadEvent {
  version: number;
  id: string;
  type: string;
  data: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  /** The append time, ISO 8601 (kes-time). */
  time: string;
  position: { topic: string; partition: number; offset: number };
}

export interface ReadAnswer {
  stream: string;
  /** The stream's committed version when the page was read (-1: no events). */
  version: number;
  direction: Direction;
  /** The page's first version (forwards) or last (backwards), as asked or defaulted. */
  fromVersion: number;
  limit: number;
  /** In the direction asked: ascending forwards, descending backwards. */
  events: ReadEvent[];
  /** The fromVersion of the next page, or null when this page reached the stream's end (or start, backwards). */
  nextVersion: number | null;
}
