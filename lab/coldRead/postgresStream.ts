import { performance } from 'node:perf_hooks';
import { PostgresMessageStore } from '../postgres/messageStore.js';
import { spreadPlaces } from './spreadPlaces.js';

/** Filler streams share the table with the one read, as the partition's filler streams do in Kafka. */
const FILLER_STREAMS = 10_000;
const DATA = JSON.stringify({ amount: 100, currency: 'EUR', transferId: null });

/**
 * A message store (schema of its own) whose messages table holds `offsets` rows in all: the stream's `events`
 * spread evenly among filler messages of other streams. Loaded in one INSERT … SELECT from generate_series, the way
 * a long-lived store would have filled up, then analysed so the planner knows its size.
 */
export async function loadPostgresStream(args: {
  url: string;
  schema: string;
  stream: string;
  offsets: number;
  events: number;
}): Promise<{ store: PostgresMessageStore; loadMs: number }> {
  const store = await PostgresMessageStore.open(args.url, { schema: args.schema, poolSize: 2 });
  try {
    const started = performance.now();
    await store.query(
      `INSERT INTO ${args.schema}.messages (id, stream_name, position, type, data, metadata)
       SELECT gen_random_uuid(),
              CASE WHEN t.k IS NULL THEN 'account-filler' || (g % ${FILLER_STREAMS}) ELSE $2 END,
              CASE WHEN t.k IS NULL THEN g / ${FILLER_STREAMS} ELSE t.k - 1 END,
              'MoneyDeposited', $3::jsonb, NULL
       FROM generate_series(0, $1::bigint - 1) AS g
       LEFT JOIN unnest($4::bigint[]) WITH ORDINALITY AS t(place, k) ON t.place = g
       ORDER BY g`,
      [args.offsets, args.stream, DATA, spreadPlaces(args.offsets, args.events)],
    );
    await store.query(`ANALYZE ${args.schema}.messages`);
    return { store, loadMs: performance.now() - started };
  } catch (error) {
    await store.drop().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw error;
  }
}

/** One load of the whole stream through get_stream_messages, checked: every position, in order. */
export async function readPostgresStream(store: PostgresMessageStore, stream: string, events: number): Promise<number> {
  const started = performance.now();
  const messages = await store.readStream(stream, 0, events);
  const elapsed = performance.now() - started;
  if (messages.length !== events || messages.some((m, i) => m.position !== i)) {
    throw new Error(`Postgres read ${messages.length} of ${events} messages of ${stream}, or out of order`);
  }
  return elapsed;
}
