import { performance } from 'node:perf_hooks';
import type { ClickHouseEngine } from '../../pipeline/clickhouse/engine.js';

/** The "no sink" engine: every statement succeeds at once and nothing is stored. */
export function nullEngine(): ClickHouseEngine {
  return {
    kind: 'server',
    command: async () => {},
    insert: async () => {},
    query: async <Row>() => [] as Row[],
    version: async () => 'none (no sink)',
    close: async () => {},
  };
}

/** Times the inserts into one table (the projection's sink) of the engine it wraps. */
export class TimedEngine implements ClickHouseEngine {
  readonly inserts: { ms: number; rows: number }[] = [];

  constructor(
    private readonly inner: ClickHouseEngine,
    private readonly sink: string,
  ) {}

  get kind() {
    return this.inner.kind;
  }

  command(sql: string, params?: Parameters<ClickHouseEngine['command']>[1]): Promise<void> {
    return this.inner.command(sql, params);
  }

  async insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
    if (table !== this.sink) return this.inner.insert(table, rows);
    const t0 = performance.now();
    await this.inner.insert(table, rows);
    this.inserts.push({ ms: performance.now() - t0, rows: rows.length });
  }

  query<Row>(sql: string, params?: Parameters<ClickHouseEngine['query']>[1]): Promise<Row[]> {
    return this.inner.query<Row>(sql, params);
  }

  version(): Promise<string> {
    return this.inner.version();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
