import type { Kafka } from 'kafkajs';
import { EVENT_TYPE, eventData } from '../../bench/guard/load.js';
import { rawTransactions } from '../../bench/guard/rawCeiling.js';
import type { CpuMeter } from '../../bench/support/cpuMeter.js';
import { GuardClient } from '../../guard/client/guardClient.js';
import { keepAliveAgent } from '../../guard/client/httpJson.js';
import { LOCAL_DEV_KEY } from '../../pipeline/config/config.js';
import { KesError } from '../../pipeline/errors.js';
import type { EventCatalog } from '../../pipeline/schemas/eventCatalog.js';
import { PostgresMessageStore } from '../postgres/messageStore.js';
import type { PathId } from './options.js';
import { CLIENT, type PointFigures } from './point.js';
import { measureWriters, type WriterCall } from './writerLoop.js';
import { WriterStreams } from './writerStreams.js';

/** What the paths share in one run: the guard, the raw topic, the Postgres, the CPU meter. */
export interface Rig {
  runId: string;
  category: string;
  guardUrl: string;
  kafka: Kafka;
  catalog: EventCatalog;
  rawTopic: string;
  partitions: number;
  postgresUrl: string | undefined;
  /** The schema of the run's message store (created by the first Postgres point, dropped at the end). */
  postgresSchema: string;
  cpu: CpuMeter;
  atomicSize: number;
  warmupMs: number;
  durationMs: number;
  /** A line worth seeing (the first error of a point). */
  note: (line: string) => void;
}

export interface WritePath {
  id: PathId;
  label: string;
  /** How it writes, for the notes. */
  how: string;
  /** The processes whose CPU is the path's cost (names of the CpuMeter's columns). */
  processes: string[];
  measure(rig: Rig, writers: number): Promise<PointFigures>;
}

/** Postgres connections per point: one per writer, at most this many (a pool larger than that only queues in Postgres). */
export const MAX_POSTGRES_POOL = 64;

let events = 0;
const newEvent = () => {
  events += 1;
  return { type: EVENT_TYPE, data: eventData(events) };
};

/** Counts a failed call (its first error is noted) and moves the writer to fresh streams. */
function failure(rig: Rig, label: string, streams: WriterStreams, w: number, seen: { noted: boolean }, error: unknown) {
  streams.failed(w);
  if (!seen.noted) {
    seen.noted = true;
    rig.note(
      `${label}: a call failed (counted, not retried): ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return 0;
}

/** One guard client for a point, closed (its sockets too) when the point ends. */
async function withGuardClient(
  rig: Rig,
  writers: number,
  coalesce: boolean,
  body: (client: GuardClient) => Promise<PointFigures>,
): Promise<PointFigures> {
  const agent = keepAliveAgent(coalesce ? 64 : writers + 8);
  // One attempt per call: an error is counted, not retried (as in bench:guard).
  const client = new GuardClient({
    url: rig.guardUrl,
    apiKey: LOCAL_DEV_KEY,
    agent,
    maxAttempts: 1,
    coalesce: coalesce ? { lingerMs: 1, maxAppends: 256 } : false,
  });
  try {
    return await body(client);
  } finally {
    agent.destroy();
  }
}

function guardedPath(id: 'guard-single' | 'guard-batched', label: string, how: string): WritePath {
  return {
    id,
    label,
    how,
    processes: [CLIENT, 'guard', 'redis', 'kafka'],
    measure: (rig, writers) =>
      withGuardClient(rig, writers, id === 'guard-batched', (client) => {
        const streams = new WriterStreams(rig.category, `${id.replace('-', '')}${writers}`, writers, 1);
        const seen = { noted: false };
        const call: WriterCall = async (w) => {
          const [s] = streams.of(w);
          if (!s) return 0;
          try {
            await client.appendToStream(s.stream, [newEvent()], { expectedVersion: s.version });
            streams.written(w);
            return 1;
          } catch (error) {
            if (!(error instanceof KesError)) throw error;
            return failure(rig, label, streams, w, seen, error);
          }
        };
        return measureWriters({ writers, call, warmupMs: rig.warmupMs, durationMs: rig.durationMs, cpu: rig.cpu });
      }),
  };
}

const atomicPath: WritePath = {
  id: 'guard-atomic',
  label: 'atomic batches',
  how: 'each writer sends one atomic batch at a time (appendAtomically): one event to each of its k streams, all written or none, every item with its expected version; appends/s counts the items, latency is per batch',
  processes: [CLIENT, 'guard', 'redis', 'kafka'],
  measure: (rig, writers) =>
    withGuardClient(rig, writers, false, (client) => {
      const streams = new WriterStreams(rig.category, `atomic${writers}`, writers, rig.atomicSize);
      const seen = { noted: false };
      const call: WriterCall = async (w) => {
        const own = streams.of(w);
        try {
          await client.appendAtomically(
            own.map((s) => ({ stream: s.stream, events: [newEvent()], expectedVersion: s.version })),
          );
          streams.written(w);
          return own.length;
        } catch (error) {
          if (!(error instanceof KesError)) throw error;
          return failure(rig, 'atomic batches', streams, w, seen, error);
        }
      };
      return measureWriters({ writers, call, warmupMs: rig.warmupMs, durationMs: rig.durationMs, cpu: rig.cpu });
    }),
};

const rawKafkaPath: WritePath = {
  id: 'raw-kafka',
  label: 'raw Kafka',
  how:
    "a transactional producer per writer (the guard's initTransactional, coordinator kept), one single-record " +
    'transaction per append (begin, send with acks=all, commit), no version check; records shaped as the guard ' +
    "writes them (Avro, kes headers); latency is the transaction's, building the record is outside it",
  processes: [CLIENT, 'kafka'],
  measure: async (rig, writers) => {
    const r = await rawTransactions({
      kafka: rig.kafka,
      catalog: rig.catalog,
      topic: rig.rawTopic,
      partitions: rig.partitions,
      // no check, so no contention to avoid: the versions in the headers follow the records written
      streams: 1_000_000,
      producers: writers,
      batch: 1,
      batchSource: 'one append',
      transactionalPrefix: `kes-lab-writecost.${rig.runId}.${writers}`,
      warmupMs: rig.warmupMs,
      durationMs: rig.durationMs,
      cpu: rig.cpu,
      cacheCoordinator: true,
    });
    return { appendsPerSecond: r.eventsPerSecond, latency: r.latency, cpu: r.cpu, errors: 0 };
  },
};

const postgresPath: WritePath = {
  id: 'postgres',
  label: 'Postgres',
  how:
    `PostgresMessageStore.writeMessage (message-db's write_message: stream lock, version check, insert) with the ` +
    `expected version, one transaction per append, a pool of min(writers, ${MAX_POSTGRES_POOL}) connections`,
  processes: [CLIENT, 'postgres'],
  measure: async (rig, writers) => {
    if (rig.postgresUrl === undefined) throw new Error('write-cost: the Postgres path runs without POSTGRES_URL');
    const store = await PostgresMessageStore.open(rig.postgresUrl, {
      schema: rig.postgresSchema,
      poolSize: Math.min(writers, MAX_POSTGRES_POOL),
    });
    try {
      const streams = new WriterStreams(rig.category, `pg${writers}`, writers, 1);
      const seen = { noted: false };
      const call: WriterCall = async (w) => {
        const [s] = streams.of(w);
        if (!s) return 0;
        const e = newEvent();
        try {
          await store.writeMessage(s.stream, e.type, e.data, s.version);
          streams.written(w);
          return 1;
        } catch (error) {
          return failure(rig, 'Postgres', streams, w, seen, error);
        }
      };
      return await measureWriters({ writers, call, warmupMs: rig.warmupMs, durationMs: rig.durationMs, cpu: rig.cpu });
    } finally {
      await store.close();
    }
  },
};

export const WRITE_PATHS: readonly WritePath[] = [
  rawKafkaPath,
  guardedPath(
    'guard-single',
    'guarded single',
    'one append per HTTP request (POST /streams/:stream/events, coalescing off), expectedVersion set',
  ),
  guardedPath(
    'guard-batched',
    'guarded batches',
    "the coalescing client (GuardClient's default: appends pending within 1 ms, at most 256, go as one POST /appends), expectedVersion set on each",
  ),
  atomicPath,
  postgresPath,
];
