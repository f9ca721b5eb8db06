import type { Expected } from './expectedVersion.js';

/** One event checked (shape, schema, size) and encoded: what the guard writes to Kafka. */
export interface PreparedEvent {
  id: string;
  type: string;
  /** Content hash (type, data, metadata): tells a retry from a reused id. */
  hash: string;
  /** Avro, Confluent wire format. */
  value: Buffer;
  metadata?: Record<string, unknown>;
}

/** An append that passed every check that needs no state: name, auth, shape, sizes, schemas. */
export interface PreparedAppend {
  stream: string;
  category: string;
  topic: string;
  partition: number;
  expected: Expected;
  events: PreparedEvent[];
  /** The request's W3C traceparent, written to each of its events' records (only when the request had one). */
  traceparent?: string;
}
