import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterStatements } from '../../pipeline/clickhouse/clusterDdl.js';
import { EmbeddedEngine } from '../../pipeline/clickhouse/embeddedEngine.js';
import type { ClickHouseEngine, QueryParams } from '../../pipeline/clickhouse/engine.js';
import { eventsProjection } from '../readModels/eventsProjection.js';
import { ProjectionCatalog } from './projectionCatalog.js';

/**
 * Issue 16: the read models' DDL on a ClickHouse cluster. No server with replication and Keeper can run here, so
 * this proves what can be proved on one machine: every statement the catalog really issues (install, a rebuild's
 * new version, the swap, dropping the old version), rewritten for a cluster, is parsed by the ClickHouse parser of
 * the embedded engine (26.x) as the statement kind it should be. Running them on replicas is not tested
 * (docs/scaling.md, ClickHouse).
 */
class RecordingEngine implements ClickHouseEngine {
  readonly kind;
  readonly commands: string[] = [];
  constructor(private readonly inner: ClickHouseEngine) {
    this.kind = inner.kind;
  }
  command(sql: string, params?: QueryParams): Promise<void> {
    this.commands.push(sql);
    return this.inner.command(sql, params);
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

describe('read-model DDL on a ClickHouse cluster, parsed by the embedded engine', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kes-cluster-ddl-'));
  let engine: EmbeddedEngine;
  let recorded: RecordingEngine;

  beforeAll(async () => {
    engine = await EmbeddedEngine.open(dir);
    recorded = new RecordingEngine(engine);
    const catalog = new ProjectionCatalog(recorded, 'kes_cluster_ddl', 'kes.test.');
    await catalog.install(eventsProjection);
    const next = await catalog.beginVersion(eventsProjection, 0);
    await catalog.swap(eventsProjection, next.version);
    await catalog.dropVersion(eventsProjection, 1);
  }, 120_000);

  afterAll(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every statement the catalog issues has a cluster form that ClickHouse parses', async () => {
    const rewritten = recorded.commands.flatMap((sql) => clusterStatements(sql, 'kes_cluster'));
    expect(rewritten.length).toBeGreaterThan(recorded.commands.length);
    const kinds = new Map<string, number>();
    for (const sql of rewritten) {
      const ast = await engine.query<Record<string, string>>(`EXPLAIN AST ${sql}`);
      const head = Object.values(ast[0] ?? {})[0] ?? '';
      const kind = head.split(' ')[0] ?? '';
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      expect(sql, 'every DDL statement runs on every node').toMatch(/ON CLUSTER kes_cluster/);
    }
    expect([...kinds.keys()].sort()).toEqual(['AlterQuery', 'CreateQuery', 'DropQuery', 'Rename']);
  });

  it('the sink and aggregating tables are Replicated, each with a Distributed table; serving views read those', () => {
    const rewritten = recorded.commands.flatMap((sql) => clusterStatements(sql, 'kes_cluster'));
    const creates = rewritten.filter((s) => /^CREATE TABLE/.test(s)).join('\n');
    for (const engineName of ['ReplicatedReplacingMergeTree', 'ReplicatedAggregatingMergeTree']) {
      expect(creates).toContain(`ENGINE = ${engineName}('/clickhouse/tables/{uuid}/{shard}', '{replica}'`);
    }
    expect(creates).toContain(
      '`kes_cluster_ddl`.`events_v1_dist` ON CLUSTER kes_cluster AS `kes_cluster_ddl`.`events_v1`',
    );
    expect(creates).not.toMatch(/ENGINE = (Replacing|Aggregating)?MergeTree/);
    const views = rewritten.filter((s) => /^CREATE VIEW/.test(s));
    expect(views.length).toBeGreaterThan(0);
    for (const view of views) expect(view).not.toMatch(/`[a-z_]+_v\d+`(?!_dist)[^_]/);
    expect(views.some((v) => v.includes('`events_v2_dist` FINAL'))).toBe(true);
  });
});
