import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import type { HighWatermarks } from '../pipeline/kafka/highWatermarks.js';
import type { Logger } from './log.js';
import type { GuardMetrics } from './metrics.js';
import type { WindowShape } from './protocol/idWindow.js';
import type { KeySpace } from './protocol/keys.js';
import type { LocatedEvent, StreamLocation } from './read/streamReader.js';
import type { TopicDirectory } from './topics.js';

export interface GuardSettings {
  /** Redis key prefix; also names the pool of transactional ids, so two kes installations never fence each other. */
  namespace: string;
  slots: number;
  leaseMs: number;
  reservationMs: number;
  lingerMs: number;
  maxBatchEvents: number;
  writers: number;
  /** Ids are remembered at least this long (KES_IDEMPOTENCY_WINDOW_S), unless the memory bound forgets them first. */
  windowMs: number;
  /** The idempotency window's ring, cut by time and by KES_IDEMPOTENCY_WINDOW_EVENTS (guard/protocol/idWindow.ts). */
  window: WindowShape;
  /** How long an append may wait in the guard before it is answered (not ready, or outcome unknown). */
  appendTimeoutMs: number;
}

/** What the guard's parts share: clients, key layout, settings, metrics. Built once in guard/guard.ts. */
export interface GuardContext {
  settings: GuardSettings;
  kafka: Kafka;
  redis: Redis;
  keys: KeySpace;
  topics: TopicDirectory;
  watermarks: HighWatermarks;
  metrics: GuardMetrics;
  instanceId: string;
  log: Logger;
  /**
   * Finds a stream's events in the log by version (the guard's StreamReader, set once it exists): the writer reads
   * back a wrong-expected-version refusal with it (write/conflictRefusal.ts). Without it conflicts are not read back.
   */
  locator?: { locate(at: StreamLocation, lo: number, hi: number): Promise<LocatedEvent[]> };
}
