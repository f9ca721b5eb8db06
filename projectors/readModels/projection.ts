import type { DecodedEvent } from '../run/decodedEvent.js';

/**
 * A projection: a set of ClickHouse tables built from the committed events, in numbered versions. Version N's
 * physical tables carry the suffix `_vN`; users and reports read stable views (no suffix) that point at the
 * serving version and give exact answers without waiting for background merges. A rebuild fills version N+1 from
 * offset 0 while the views still point at N, then swaps each view atomically (EXCHANGE TABLES).
 *
 * Every table of a projection tolerates a batch written twice (a retry after an unknown outcome, a zombie that
 * lost its partitions): rows are keyed by event identity (ReplacingMergeTree read with FINAL or argMax) or
 * aggregated by idempotent states (bitmaps of offsets, exact sets of streams). That is what makes at-least-once
 * delivery exactly once in effect. kes checks the sink table's real DDL whenever it creates a version
 * (`duplicateRules.ts`): a sink that is not a ReplacingMergeTree ordered by (…, stream, version, …) is refused.
 */
export interface Projection {
  readonly name: string;
  readonly description: string;
  /** The table the projector inserts into; the projection's other tables are fed from it by materialized views. */
  readonly sinkTable: string;
  /** Physical tables and materialized views of version `version`, in creation order (IF NOT EXISTS). */
  createStatements(database: string, version: number): string[];
  /** Drops everything `createStatements` created, views first. */
  dropStatements(database: string, version: number): string[];
  /** The serving views: name -> SELECT over version `version`'s tables. */
  views(database: string, version: number): { name: string; select: string }[];
  /** One row of the sink table for an event (JSONEachRow shape), or undefined when the event has no row here. */
  row(event: DecodedEvent): Record<string, unknown> | undefined;
}

/** `name_vN`, quoted for ClickHouse. */
export function versioned(database: string, table: string, version: number): string {
  return `${quote(database)}.${quote(`${table}_v${version}`)}`;
}

export function qualified(database: string, table: string): string {
  return `${quote(database)}.${quote(table)}`;
}

/** Identifiers are kes' own names or validated ones; quoting still keeps any of them from being read as SQL. */
export function quote(identifier: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(identifier)) throw new Error(`not a valid ClickHouse identifier: ${identifier}`);
  return `\`${identifier}\``;
}
