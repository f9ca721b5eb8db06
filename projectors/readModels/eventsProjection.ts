import { type Projection, versioned } from './projection.js';

/**
 * The `events` projection: every committed event, plus what a user of a high-volume event stream asks first.
 *
 * - `events`: one row per event, ordered for per-stream reads (category, stream, version). ReplacingMergeTree on
 *   that key, read through `FINAL`: a batch written twice can never show an event twice.
 * - `stream_heads`: each stream's current version, last type and time (argMax over versions, so duplicates and
 *   unmerged parts do not matter).
 * - `events_per_minute`: events per category and type per minute. The count is the cardinality of a bitmap of
 *   (partition, offset) per group, so counting the same event twice is impossible by construction, and the
 *   bitmap of consecutive offsets stays small.
 * - `category_activity_hourly`: per category and hour, how many distinct streams were active and how many began,
 *   as exact sets (uniqExact), again immune to duplicates.
 */
const T = {
  events: 'events',
  heads: 'stream_heads',
  perMinute: 'events_per_minute',
  activity: 'category_activity_hourly',
} as const;

const mv = (table: string) => `${table}_mv`;

export const eventsProjection: Projection = {
  name: 'events',
  description: 'every event, stream heads, events per category and type per minute, hourly category activity',
  sinkTable: T.events,

  createStatements(db, v) {
    const events = versioned(db, T.events, v);
    return [
      `CREATE TABLE IF NOT EXISTS ${events} (
        category LowCardinality(String),
        stream String,
        version UInt64,
        event_id String,
        type LowCardinality(String),
        time DateTime64(3, 'UTC') COMMENT 'when the guard appended the event (ce_time header)',
        data String COMMENT 'the event data as JSON (decoded from Avro)',
        metadata String,
        traceparent String DEFAULT '' COMMENT 'W3C traceparent of the append request, empty when it had none',
        topic LowCardinality(String),
        partition UInt32,
        offset UInt64,
        projected_at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = ReplacingMergeTree ORDER BY (category, stream, version)`,
      // A table created before traceparent existed (IF NOT EXISTS kept it) gains the column, so the rows written
      // now insert; its events projected before have it empty until a rebuild (docs/projectors.md).
      `ALTER TABLE ${events} ADD COLUMN IF NOT EXISTS traceparent String DEFAULT ''`,
      `CREATE TABLE IF NOT EXISTS ${versioned(db, T.heads, v)} (
        category LowCardinality(String),
        stream String,
        version UInt64,
        type LowCardinality(String),
        time DateTime64(3, 'UTC'),
        event_id String
      ) ENGINE = ReplacingMergeTree(version) ORDER BY (category, stream)`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS ${versioned(db, mv(T.heads), v)} TO ${versioned(db, T.heads, v)} AS
        ${latestPerStream(events)}`,
      `CREATE TABLE IF NOT EXISTS ${versioned(db, T.perMinute, v)} (
        minute DateTime('UTC'),
        category LowCardinality(String),
        type LowCardinality(String),
        topic LowCardinality(String),
        partition UInt32,
        offsets AggregateFunction(groupBitmap, UInt64)
      ) ENGINE = AggregatingMergeTree ORDER BY (minute, category, type, topic, partition)`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS ${versioned(db, mv(T.perMinute), v)} TO ${versioned(db, T.perMinute, v)} AS
        SELECT toStartOfMinute(time) AS minute, category, type, topic, partition, groupBitmapState(offset) AS offsets
        FROM ${events} GROUP BY minute, category, type, topic, partition`,
      `CREATE TABLE IF NOT EXISTS ${versioned(db, T.activity, v)} (
        hour DateTime('UTC'),
        category LowCardinality(String),
        active_streams AggregateFunction(uniqExact, String),
        new_streams AggregateFunction(uniqExactIf, String, UInt8),
        last_event_at SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
      ) ENGINE = AggregatingMergeTree ORDER BY (hour, category)`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS ${versioned(db, mv(T.activity), v)} TO ${versioned(db, T.activity, v)} AS
        SELECT toStartOfHour(time) AS hour, category, uniqExactState(stream) AS active_streams,
               uniqExactIfState(stream, toUInt8(version = 0)) AS new_streams, max(time) AS last_event_at
        FROM ${events} GROUP BY hour, category`,
    ];
  },

  dropStatements(db, v) {
    return [
      ...[T.heads, T.perMinute, T.activity].map((t) => `DROP VIEW IF EXISTS ${versioned(db, mv(t), v)}`),
      ...[T.events, T.heads, T.perMinute, T.activity].map((t) => `DROP TABLE IF EXISTS ${versioned(db, t, v)}`),
    ];
  },

  views(db, v) {
    return [
      { name: T.events, select: `SELECT * FROM ${versioned(db, T.events, v)} FINAL` },
      {
        name: T.heads,
        select: latestPerStream(versioned(db, T.heads, v)),
      },
      {
        name: T.perMinute,
        select: `SELECT minute, category, type, toUInt64(sum(n)) AS events FROM (
                   SELECT minute, category, type, topic, partition, groupBitmapMerge(offsets) AS n
                   FROM ${versioned(db, T.perMinute, v)} GROUP BY minute, category, type, topic, partition
                 ) GROUP BY minute, category, type`,
      },
      {
        name: T.activity,
        select: `SELECT hour, category, uniqExactMerge(active_streams) AS active_streams,
                        uniqExactIfMerge(new_streams) AS new_streams, max(last_event_at) AS last_event_at
                 FROM ${versioned(db, T.activity, v)} GROUP BY hour, category`,
      },
    ];
  },

  row(e) {
    return {
      category: e.category,
      stream: e.stream,
      version: e.version,
      event_id: e.eventId,
      type: e.type,
      time: clickhouseTime(e.timeMs),
      data: e.dataJson,
      metadata: e.metadataJson,
      traceparent: e.traceparent ?? '',
      topic: e.topic,
      partition: e.partition,
      offset: e.offset,
    };
  },
};

/** Each stream's last event in `table` (aliases differ from column names so argMax reads the columns). */
function latestPerStream(table: string): string {
  return `SELECT category, stream, v AS version, t AS type, tm AS time, id AS event_id FROM (
            SELECT category, stream, max(version) AS v, argMax(type, version) AS t,
                   argMax(time, version) AS tm, argMax(event_id, version) AS id
            FROM ${table} GROUP BY category, stream)`;
}

/**
 * DateTime64(3) text ClickHouse parses in any input format: `YYYY-MM-DD hh:mm:ss.sss` (UTC). Called once per
 * projected row: the `YYYY-MM-DD hh:mm:` part is formatted once per minute and kept, the rest is arithmetic (the
 * same text as `new Date(ms).toISOString()` would give, at a tenth of the cost; see docs/projectors.md, Speed).
 */
export function clickhouseTime(time: number): string {
  const ms = Math.trunc(time);
  const within = ((ms % 60_000) + 60_000) % 60_000;
  const start = ms - within;
  if (start !== minute.start) minute = { start, prefix: new Date(start).toISOString().slice(0, 17).replace('T', ' ') };
  const s = Math.floor(within / 1000);
  const m = within % 1000;
  return `${minute.prefix}${s < 10 ? '0' : ''}${s}.${m < 10 ? '00' : m < 100 ? '0' : ''}${m}`;
}

let minute = { start: Number.NaN, prefix: '' };
