/**
 * The rule that keeps a projection exactly once in effect, as a pure judgement of a table's real DDL.
 *
 * A projector delivers at least once: a batch is replayed after a crash between its insert and its offset commit,
 * after a rebalance, or when a retried insert had in fact landed. A table absorbs a replayed row only if the row
 * meets its first copy under one key and one of them goes away: a ReplacingMergeTree keyed by the event's identity
 * (the stream and the version within it) and read with FINAL. A plain MergeTree keeps both copies (every count and
 * sum doubles); a SummingMergeTree adds them up; a ReplacingMergeTree keyed by anything coarser than (stream,
 * version) merges distinct events into one. So the sink table of every projection must be a ReplacingMergeTree
 * (Replicated or Shared variants included) whose ORDER BY lists the columns `stream` and `version` (others may come
 * before, between or after them: they are functions of the event, the same in every copy).
 */
export interface TableDdl {
  /** system.tables.engine, e.g. `ReplacingMergeTree`, `ReplicatedReplacingMergeTree`, `MergeTree`. */
  engine: string;
  /** system.tables.sorting_key, e.g. `category, stream, version`. */
  sortingKey: string;
}

export const IDENTITY_COLUMNS = ['stream', 'version'] as const;

/** Why a table would count a replayed batch twice (or merge distinct events), or undefined when it absorbs it. */
export function duplicateProblem(ddl: TableDdl): string | undefined {
  // ClickHouse keeps a one-column key written `ORDER BY (sku)` as `(sku)`; several columns come as `a, b`.
  const key = /^\([^(),]*\)$/.test(ddl.sortingKey.trim()) ? ddl.sortingKey.trim().slice(1, -1) : ddl.sortingKey;
  const keyColumns = key
    .split(',')
    .map((c) => c.trim().replace(/^`(.*)`$/, '$1'))
    .filter((c) => c.length > 0);
  const orderedBy = keyColumns.length === 0 ? 'nothing (no ORDER BY key)' : `(${keyColumns.join(', ')})`;
  if (!/^(Replicated|Shared)?ReplacingMergeTree$/.test(ddl.engine)) {
    return `it is a ${ddl.engine} ordered by ${orderedBy}, which keeps every copy of a replayed row: counts and sums would double after a crash or rebalance`;
  }
  const missing = IDENTITY_COLUMNS.filter((c) => !keyColumns.includes(c));
  if (missing.length > 0) {
    return `it is a ReplacingMergeTree ordered by ${orderedBy}, without ${missing.join(' and ')}: a replayed row would only be absorbed if the key held the event's (stream, version), and distinct events with one key would be merged into one`;
  }
  return undefined;
}

export const DUPLICATE_RULE =
  'a projection table must be a ReplacingMergeTree whose ORDER BY holds the columns stream and version (docs/modules-and-projections.md)';
