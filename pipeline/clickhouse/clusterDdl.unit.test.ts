import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { clusterStatements, distributedName } from './clusterDdl.js';

const C = 'kes_cluster';

describe('clusterStatements (read-model DDL for a ClickHouse cluster)', () => {
  it('a ReplacingMergeTree becomes a Replicated one ON CLUSTER, keeps its version column, and gets a Distributed table', () => {
    const [local, dist, ...rest] = clusterStatements(
      `CREATE TABLE IF NOT EXISTS \`kes\`.\`stream_heads_v2\` (
        stream String, version UInt64
      ) ENGINE = ReplacingMergeTree(version) ORDER BY (category, stream)`,
      C,
    );
    expect(rest).toEqual([]);
    expect(local).toMatch(/^CREATE TABLE IF NOT EXISTS `kes`\.`stream_heads_v2` ON CLUSTER kes_cluster \(/);
    expect(local).toContain(
      "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}', version) ORDER BY (category, stream)",
    );
    expect(dist).toBe(
      'CREATE TABLE IF NOT EXISTS `kes`.`stream_heads_v2_dist` ON CLUSTER kes_cluster AS `kes`.`stream_heads_v2` ENGINE = Distributed(kes_cluster, kes, stream_heads_v2)',
    );
  });

  it('engines without arguments and the aggregating family get the replica path and name only', () => {
    expect(
      clusterStatements('CREATE TABLE IF NOT EXISTS `d`.`e_v1` (a UInt8) ENGINE = ReplacingMergeTree ORDER BY a', C)[0],
    ).toContain("ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}') ORDER BY a");
    expect(
      clusterStatements(
        'CREATE TABLE IF NOT EXISTS `d`.`m_v1` (a UInt8) ENGINE = AggregatingMergeTree ORDER BY a',
        C,
      )[0],
    ).toContain("ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}') ORDER BY a");
    expect(clusterStatements('CREATE TABLE `d`.`plain` (a UInt8) ENGINE = MergeTree ORDER BY a', C)[0]).toContain(
      "ENGINE = ReplicatedMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}') ORDER BY a",
    );
  });

  it('serving views read the Distributed tables; materialized views keep reading the local table they fire on', () => {
    expect(
      clusterStatements('CREATE VIEW IF NOT EXISTS `kes`.`events` AS SELECT * FROM `kes`.`events_v3` FINAL', C),
    ).toEqual([
      'CREATE VIEW IF NOT EXISTS `kes`.`events` ON CLUSTER kes_cluster AS SELECT * FROM `kes`.`events_v3_dist` FINAL',
    ]);
    expect(
      clusterStatements(
        'CREATE MATERIALIZED VIEW IF NOT EXISTS `kes`.`h_mv_v1` TO `kes`.`h_v1` AS SELECT a FROM `kes`.`events_v1`',
        C,
      ),
    ).toEqual([
      'CREATE MATERIALIZED VIEW IF NOT EXISTS `kes`.`h_mv_v1` ON CLUSTER kes_cluster TO `kes`.`h_v1` AS SELECT a FROM `kes`.`events_v1`',
    ]);
  });

  it('ALTER and DROP TABLE reach the Distributed table too (dropped first), synchronously; swaps run ON CLUSTER', () => {
    expect(clusterStatements("ALTER TABLE `kes`.`events_v1` ADD COLUMN IF NOT EXISTS t String DEFAULT ''", C)).toEqual([
      "ALTER TABLE `kes`.`events_v1` ON CLUSTER kes_cluster ADD COLUMN IF NOT EXISTS t String DEFAULT ''",
      "ALTER TABLE `kes`.`events_v1_dist` ON CLUSTER kes_cluster ADD COLUMN IF NOT EXISTS t String DEFAULT ''",
    ]);
    expect(clusterStatements('DROP TABLE IF EXISTS `kes`.`events_v1`', C)).toEqual([
      'DROP TABLE IF EXISTS `kes`.`events_v1_dist` ON CLUSTER kes_cluster SYNC',
      'DROP TABLE IF EXISTS `kes`.`events_v1` ON CLUSTER kes_cluster SYNC',
    ]);
    expect(clusterStatements('DROP VIEW IF EXISTS `kes`.`x_mv_v1`', C)).toEqual([
      'DROP VIEW IF EXISTS `kes`.`x_mv_v1` ON CLUSTER kes_cluster SYNC',
    ]);
    expect(clusterStatements('EXCHANGE TABLES `kes`.`events` AND `kes`.`events__swap_1`', C)).toEqual([
      'EXCHANGE TABLES `kes`.`events` AND `kes`.`events__swap_1` ON CLUSTER kes_cluster',
    ]);
    expect(clusterStatements('CREATE DATABASE IF NOT EXISTS `kes`', C)).toEqual([
      'CREATE DATABASE IF NOT EXISTS `kes` ON CLUSTER kes_cluster',
    ]);
  });

  it('leaves queries and statements already ON CLUSTER alone, and refuses DDL it has no cluster form for', () => {
    expect(clusterStatements('SELECT 1', C)).toEqual(['SELECT 1']);
    expect(clusterStatements('CREATE DATABASE x ON CLUSTER other', C)).toEqual(['CREATE DATABASE x ON CLUSTER other']);
    expect(() => clusterStatements('TRUNCATE TABLE `kes`.`events_v1`', C)).toThrow(ConfigError);
    expect(() => clusterStatements('SELECT 1', 'bad name')).toThrow(/KES_CLICKHOUSE_CLUSTER/);
  });

  it('names the Distributed table beside its local table', () => {
    expect(distributedName('`kes`.`events_v1`')).toBe('`kes`.`events_v1_dist`');
    expect(distributedName('events_v1')).toBe('`events_v1_dist`');
  });
});
