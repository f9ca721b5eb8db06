import { clusterStatements } from './clusterDdl.js';
import type { ClickHouseEngine, QueryParams } from './engine.js';

/**
 * A server engine whose DDL runs on every node of a ClickHouse cluster (KES_CLICKHOUSE_CLUSTER): each statement
 * is rewritten by clusterStatements (Replicated tables, Distributed serving tables, ON CLUSTER) and the results run
 * in order. Inserts and queries pass through: an insert lands on the connected node's local replicated table and
 * replication carries it to the other replicas. The projectors and the catalog do not know the difference.
 */
export class ClusterEngine implements ClickHouseEngine {
  readonly kind;
  constructor(
    private readonly inner: ClickHouseEngine,
    readonly cluster: string,
  ) {
    this.kind = inner.kind;
  }

  async command(sql: string, params?: QueryParams): Promise<void> {
    for (const statement of clusterStatements(sql, this.cluster)) await this.inner.command(statement, params);
  }

  insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
    return this.inner.insert(table, rows);
  }

  query<Row = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<Row[]> {
    return this.inner.query<Row>(sql, params);
  }

  version(): Promise<string> {
    return this.inner.version();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
