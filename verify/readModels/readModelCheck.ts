import { setTimeout as sleep } from 'node:timers/promises';
import type { ProjectionCatalog } from '../../projectors/catalog/projectionCatalog.js';
import { eventsProjection } from '../../projectors/readModels/eventsProjection.js';
import { qualified, versioned } from '../../projectors/readModels/projection.js';
import type { Violation } from '../history/checkTypes.js';
import type { CommittedEvent } from '../history/committedEvents.js';
import type { PluggedCheck } from '../history/report.js';

/**
 * Invariant 5: the read models equal the log. Every committed event is in `events` exactly once (by event id, with
 * its stream and version), nothing else is (no aborted record, no duplicate), every stream's versions there are
 * 0..n-1, `stream_heads` holds each stream's last version, and `events_per_minute` counts every event once.
 * The comparison reads the serving views, which are what users query.
 */
export interface ReadModelFigures {
  committed: number;
  /** Rows of the `events` view (exact). */
  rows: number;
  distinctIds: number;
  /** Rows physically stored in the serving version's table, duplicates included (they collapse in queries). */
  storedRows: number;
  streams: number;
  perMinuteTotal: number;
}

export interface ReadModelComparison {
  figures: ReadModelFigures;
  violations: Violation[];
}

interface Row {
  stream: string;
  version: string;
  event_id: string;
}

export async function compareReadModels(
  catalog: ProjectionCatalog,
  committed: readonly CommittedEvent[],
  options: { topicPrefix?: string } = {},
): Promise<ReadModelComparison> {
  const { engine, database } = catalog;
  const serving = await catalog.serving(eventsProjection.name);
  const inScope = (topic: string) => options.topicPrefix === undefined || topic.startsWith(options.topicPrefix);
  const events = qualified(database, 'events');
  const scope = options.topicPrefix === undefined ? '1' : 'startsWith(topic, {prefix:String})';
  const params = options.topicPrefix === undefined ? {} : { prefix: options.topicPrefix };
  const rows = await engine.query<Row>(
    `SELECT stream, version, event_id FROM ${events} WHERE ${scope} ORDER BY stream, version`,
    params,
  );
  const [totals] = await engine.query<{ rows: string; ids: string; streams: string }>(
    `SELECT count() AS rows, uniqExact(event_id) AS ids, uniqExact(stream) AS streams FROM ${events} WHERE ${scope}`,
    params,
  );
  const [stored] = await engine.query<{ n: string }>(
    `SELECT count() AS n FROM ${versioned(database, eventsProjection.sinkTable, serving?.version ?? 1)} WHERE ${scope}`,
    params,
  );
  const [perMinute] = await engine.query<{ n: string }>(
    `SELECT sum(events) AS n FROM ${qualified(database, 'events_per_minute')}`,
  );
  const heads = await engine.query<{ stream: string; version: string }>(
    `SELECT stream, version FROM ${qualified(database, 'stream_heads')}`,
  );

  const violations: Violation[] = [];
  const want = new Map<string, CommittedEvent>();
  for (const e of committed) if (inScope(e.topic)) want.set(e.eventId, e);
  const seen = new Map<string, number>();
  const lastVersion = new Map<string, number>();
  for (const row of rows) {
    const version = Number(row.version);
    seen.set(row.event_id, (seen.get(row.event_id) ?? 0) + 1);
    const expected = want.get(row.event_id);
    if (!expected) {
      violations.push({
        invariant: 5,
        stream: row.stream,
        eventIds: [row.event_id],
        detail: `read model has ${row.stream}@${version} (${row.event_id}), which is not a committed event`,
      });
    } else if (expected.stream !== row.stream || expected.version !== version) {
      violations.push({
        invariant: 5,
        stream: row.stream,
        eventIds: [row.event_id],
        detail: `read model has ${row.event_id} as ${row.stream}@${version}, the log as ${expected.stream}@${expected.version}`,
      });
    }
    const previous = lastVersion.get(row.stream);
    if ((previous === undefined && version !== 0) || (previous !== undefined && version !== previous + 1)) {
      violations.push({
        invariant: 5,
        stream: row.stream,
        detail: `read model versions of ${row.stream} go ${previous ?? 'none'} -> ${version} (expected ${previous === undefined ? 0 : previous + 1})`,
      });
    }
    lastVersion.set(row.stream, version);
  }
  for (const [id, count] of seen) {
    if (count > 1)
      violations.push({ invariant: 5, eventIds: [id], detail: `event ${id} is ${count} times in the read model` });
  }
  const missing = [...want.values()].filter((e) => !seen.has(e.eventId));
  for (const e of missing.slice(0, 20)) {
    violations.push({
      invariant: 5,
      stream: e.stream,
      eventIds: [e.eventId],
      detail: `committed event ${e.stream}@${e.version} (${e.topic}[${e.partition}]@${e.offset}) is missing from the read model`,
    });
  }
  if (missing.length > 20) {
    violations.push({
      invariant: 5,
      detail: `${missing.length - 20} more committed events are missing from the read model`,
    });
  }
  const headOf = new Map(heads.map((h) => [h.stream, Number(h.version)]));
  for (const [stream, version] of lastVersion) {
    if (headOf.get(stream) !== version) {
      violations.push({
        invariant: 5,
        stream,
        detail: `stream_heads says ${stream} is at ${headOf.get(stream) ?? 'nothing'}, events say ${version}`,
      });
    }
  }
  const figures: ReadModelFigures = {
    committed: want.size,
    rows: Number(totals?.rows ?? 0),
    distinctIds: Number(totals?.ids ?? 0),
    storedRows: Number(stored?.n ?? 0),
    streams: Number(totals?.streams ?? 0),
    perMinuteTotal: Number(perMinute?.n ?? 0),
  };
  if (options.topicPrefix === undefined && figures.perMinuteTotal !== figures.rows) {
    violations.push({
      invariant: 5,
      detail: `events_per_minute counts ${figures.perMinuteTotal} events, events has ${figures.rows}`,
    });
  }
  return { figures, violations };
}

/**
 * The read-model check for `kes check`: compares once the projection has caught up, waiting up to `waitMs` while
 * events are only missing (a projector behind is not a violation; a projector that never catches up is).
 */
export function readModelsCheck(
  catalog: ProjectionCatalog,
  options: { topicPrefix?: string; waitMs?: number } = {},
): PluggedCheck {
  const waitMs = options.waitMs ?? 60_000;
  const scope = options.topicPrefix === undefined ? {} : { topicPrefix: options.topicPrefix };
  return {
    name: 'invariant 5: read models equal the log',
    invariant: 5,
    async run({ committed }) {
      const deadline = Date.now() + waitMs;
      for (;;) {
        const { violations } = await compareReadModels(catalog, committed, scope);
        const onlyBehind = violations.every((v) => v.detail.includes('missing from the read model'));
        if (violations.length === 0 || !onlyBehind || Date.now() > deadline) return violations;
        await sleep(500);
      }
    },
  };
}
