import { ConfigError } from '../../pipeline/errors.js';
import type { DecodedEvent } from '../run/decodedEvent.js';
import { type Projection, quote, versioned } from './projection.js';

/** A committed event as a user projection sees it: its data and metadata parsed from JSON. */
export interface ProjectedEvent extends DecodedEvent {
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

export interface TableProjectionSpec {
  /** The projection's name: its consumer groups, dead-letter topic and `kes projections rebuild <name>`. */
  name: string;
  description: string;
  /** The name users query: a view over the serving version's table `<table>_vN`, read with FINAL. */
  table: string;
  /** Only events of these categories get rows (default: every category). */
  categories?: readonly string[];
  /**
   * The CREATE TABLE statement of one version's table, given its quoted name (`db`.`table_vN`). It must be a
   * ReplacingMergeTree ordered by a key holding `stream` and `version`, which kes fills in every row; kes checks
   * the table's real DDL in ClickHouse whenever it creates a version and refuses to project into anything else.
   */
  createTable(table: string): string;
  /** The row of one event (JSONEachRow), or undefined for an event without a row. A function of the event only. */
  row(event: ProjectedEvent): Record<string, unknown> | undefined;
}

const NAME = /^[a-z][a-z0-9_-]{0,62}$/;

/**
 * A projection of one table, one row per event, from a spec: kes versions the table (`_vN`) for rebuilds, serves
 * it as a view read with FINAL, fills `stream` and `version` in every row, and absorbs replayed batches through the
 * table's (stream, version) key. That is the whole contract a user projection has to keep.
 */
export function tableProjection(spec: TableProjectionSpec): Projection {
  if (!NAME.test(spec.name)) {
    throw new ConfigError(`projection ${spec.name}`, 'a name is 1 to 63 lowercase letters, digits, - or _');
  }
  quote(spec.table);
  const categories = spec.categories ? new Set(spec.categories) : undefined;
  return {
    name: spec.name,
    description: spec.description,
    sinkTable: spec.table,
    createStatements: (db, v) => [spec.createTable(versioned(db, spec.table, v))],
    dropStatements: (db, v) => [`DROP TABLE IF EXISTS ${versioned(db, spec.table, v)}`],
    views: (db, v) => [{ name: spec.table, select: `SELECT * FROM ${versioned(db, spec.table, v)} FINAL` }],
    row(event) {
      if (categories && !categories.has(event.category)) return undefined;
      const row = spec.row(projected(event));
      if (row === undefined) return undefined;
      row.stream = event.stream;
      row.version = event.version;
      return row;
    },
  };
}

/**
 * The event with its data and metadata parsed, built field by field (an object spread of the event measured several
 * times slower per row in bench/projectionRowsBench.ts, on a loaded machine).
 */
function projected(e: DecodedEvent): ProjectedEvent {
  return {
    topic: e.topic,
    partition: e.partition,
    offset: e.offset,
    stream: e.stream,
    category: e.category,
    version: e.version,
    eventId: e.eventId,
    type: e.type,
    timeMs: e.timeMs,
    dataJson: e.dataJson,
    metadataJson: e.metadataJson,
    data: JSON.parse(e.dataJson) as Record<string, unknown>,
    metadata: JSON.parse(e.metadataJson) as Record<string, unknown>,
  };
}
