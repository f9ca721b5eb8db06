import type { Expected } from '../protocol/redisState.js';

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
}

export interface AppendOutcome {
  stream: string;
  firstVersion: number;
  lastVersion: number;
  topic: string;
  partition: number;
  /** Offset of the append's last event. */
  offset: number;
  /** True when this answer comes from the first write of the same event ids (a retry). */
  duplicate: boolean;
}
