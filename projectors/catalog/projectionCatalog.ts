import { randomUUID } from 'node:crypto';
import type { ClickHouseEngine } from '../../pipeline/clickhouse/engine.js';
import { ConfigError } from '../../pipeline/errors.js';
import { DUPLICATE_RULE, duplicateProblem } from '../readModels/duplicateRules.js';
import { clickhouseTime } from '../readModels/eventsProjection.js';
import type { Projection } from '../readModels/projection.js';
import { qualified, quote } from '../readModels/projection.js';
import { assertSupportedEngine } from './engineVersion.js';

/**
 * What ClickHouse knows about the projections, kept in ClickHouse itself beside the read models:
 *
 * - `projections`: which version of each projection serves queries, and the consumer group that feeds it. The row
 *   with the latest `updated_at` wins (argMax), so a swap is one insert.
 * - `projection_versions`: every version ever started, so a version number (and its consumer group) is never used
 *   twice: a rebuild that crashed is not resumed over half-dropped tables; the next one takes a new number.
 * - `projection_progress`: the last batch per partition and version (offset, event time, when it became visible),
 *   for `kes projections status` in any process.
 */
export interface ServingVersion {
  projection: string;
  version: number;
  group: string;
}

export interface PartitionProgress {
  topic: string;
  partition: number;
  offset: number;
  eventTimeMs: number;
  projectedAtMs: number;
}

export interface VersionRecord {
  version: number;
  group: string;
  state: 'building' | 'serving' | 'retired' | 'failed';
  targetEvents: number;
  doneEvents: number;
  updatedAtMs: number;
}

export class ProjectionCatalog {
  private checkedVersion = false;
  constructor(
    readonly engine: ClickHouseEngine,
    readonly database: string,
    private readonly groupPrefix: string,
  ) {}

  groupOf(projection: string, version: number): string {
    return `${this.groupPrefix}${projection}.v${version}`;
  }

  table(name: string): string {
    return qualified(this.database, name);
  }

  async ensureMetaTables(): Promise<void> {
    if (!this.checkedVersion) {
      await assertSupportedEngine(this.engine);
      this.checkedVersion = true;
    }
    await this.engine.command(`CREATE DATABASE IF NOT EXISTS ${quote(this.database)}`);
    await this.engine.command(`CREATE TABLE IF NOT EXISTS ${this.table('projections')} (
      name String, version UInt32, consumer_group String, updated_at DateTime64(3, 'UTC') DEFAULT now64(3)
    ) ENGINE = ReplacingMergeTree(updated_at) ORDER BY name`);
    await this.engine.command(`CREATE TABLE IF NOT EXISTS ${this.table('projection_versions')} (
      name String, version UInt32, consumer_group String, state LowCardinality(String),
      target_events UInt64, done_events UInt64, updated_at DateTime64(3, 'UTC') DEFAULT now64(3)
    ) ENGINE = ReplacingMergeTree(updated_at) ORDER BY (name, version)`);
    await this.engine.command(`CREATE TABLE IF NOT EXISTS ${this.table('projection_progress')} (
      name String, version UInt32, topic String, partition UInt32, offset UInt64,
      event_time DateTime64(3, 'UTC'), projected_at DateTime64(3, 'UTC')
    ) ENGINE = ReplacingMergeTree(projected_at) ORDER BY (name, version, topic, partition)`);
  }

  /** The serving version, or undefined when the projection was never installed. */
  async serving(projection: string): Promise<ServingVersion | undefined> {
    const rows = await this.engine.query<{ version: number; consumer_group: string }>(
      `SELECT argMax(version, updated_at) AS version, argMax(consumer_group, updated_at) AS consumer_group
       FROM ${this.table('projections')} WHERE name = {projection:String} GROUP BY name`,
      { projection },
    );
    const row = rows[0];
    return row ? { projection, version: Number(row.version), group: row.consumer_group } : undefined;
  }

  /**
   * The serving version, installing version 1 (tables, views, pointer) the first time. Two processes installing
   * at once create the same tables (IF NOT EXISTS) and write the same pointer.
   */
  async install(projection: Projection): Promise<ServingVersion> {
    await this.ensureMetaTables();
    const current = await this.serving(projection.name);
    if (current) {
      // Re-create what may be missing (a database restored without views, say); everything is IF NOT EXISTS.
      for (const sql of projection.createStatements(this.database, current.version)) await this.engine.command(sql);
      await this.checkSink(projection, current.version);
      await this.createViews(projection, current.version, false);
      return current;
    }
    const version = 1;
    const group = this.groupOf(projection.name, version);
    for (const sql of projection.createStatements(this.database, version)) await this.engine.command(sql);
    await this.checkSink(projection, version);
    await this.createViews(projection, version, false);
    await this.recordVersion(projection.name, { version, group, state: 'serving', targetEvents: 0, doneEvents: 0 });
    await this.engine.insert(this.table('projections'), [{ name: projection.name, version, consumer_group: group }]);
    return { projection: projection.name, version, group };
  }

  /** A fresh version for a rebuild: a number never used before, its tables created empty. */
  async beginVersion(projection: Projection, targetEvents: number): Promise<ServingVersion> {
    await this.ensureMetaTables();
    const rows = await this.engine.query<{ top: number }>(
      `SELECT max(version) AS top FROM ${this.table('projection_versions')} WHERE name = {projection:String}`,
      { projection: projection.name },
    );
    const version = Number(rows[0]?.top ?? 0) + 1;
    const group = this.groupOf(projection.name, version);
    for (const sql of projection.dropStatements(this.database, version)) await this.engine.command(sql);
    await this.recordVersion(projection.name, { version, group, state: 'building', targetEvents, doneEvents: 0 });
    for (const sql of projection.createStatements(this.database, version)) await this.engine.command(sql);
    await this.checkSink(projection, version);
    return { projection: projection.name, version, group };
  }

  /**
   * Refuses a version whose sink table, as ClickHouse really has it (not as the projection says it would create
   * it: an older table of that name is kept by IF NOT EXISTS), would count a replayed batch twice. Run whenever a
   * version is installed, started or begun by a rebuild, before a row is written.
   */
  async checkSink(projection: Projection, version: number): Promise<void> {
    const table = `${projection.sinkTable}_v${version}`;
    const rows = await this.engine.query<{ engine: string; sorting_key: string }>(
      `SELECT engine, sorting_key FROM system.tables WHERE database = {database:String} AND name = {table:String}`,
      { database: this.database, table },
    );
    const where = `projection ${projection.name}, table ${this.database}.${table}`;
    const ddl = rows[0];
    if (!ddl) throw new ConfigError(where, 'its createStatements did not create the sink table');
    const problem = duplicateProblem({ engine: ddl.engine, sortingKey: ddl.sorting_key });
    if (problem) throw new ConfigError(where, `${problem}; ${DUPLICATE_RULE}`);
  }

  async recordVersion(projection: string, record: Omit<VersionRecord, 'updatedAtMs'>): Promise<void> {
    await this.engine.insert(this.table('projection_versions'), [
      {
        name: projection,
        version: record.version,
        consumer_group: record.group,
        state: record.state,
        target_events: record.targetEvents,
        done_events: record.doneEvents,
      },
    ]);
  }

  async versions(projection: string): Promise<VersionRecord[]> {
    const rows = await this.engine.query<{
      version: number;
      consumer_group: string;
      state: VersionRecord['state'];
      target_events: string;
      done_events: string;
      updated_at_ms: string;
    }>(
      `SELECT version, argMax(consumer_group, updated_at) AS consumer_group, argMax(state, updated_at) AS state,
              argMax(target_events, updated_at) AS target_events, argMax(done_events, updated_at) AS done_events,
              toUnixTimestamp64Milli(max(updated_at)) AS updated_at_ms
       FROM ${this.table('projection_versions')} WHERE name = {projection:String}
       GROUP BY version ORDER BY version`,
      { projection },
    );
    return rows.map((r) => ({
      version: Number(r.version),
      group: r.consumer_group,
      state: r.state,
      targetEvents: Number(r.target_events),
      doneEvents: Number(r.done_events),
      updatedAtMs: Number(r.updated_at_ms),
    }));
  }

  /**
   * Points every serving view of the projection at `version`. Each view is swapped by EXCHANGE TABLES, which is
   * atomic: a query sees the old version or the new one, never a missing table. Then the pointer row moves.
   */
  async swap(projection: Projection, version: number): Promise<void> {
    await this.createViews(projection, version, true);
    await this.engine.insert(this.table('projections'), [
      { name: projection.name, version, consumer_group: this.groupOf(projection.name, version) },
    ]);
  }

  async dropVersion(projection: Projection, version: number): Promise<void> {
    for (const sql of projection.dropStatements(this.database, version)) await this.engine.command(sql);
  }

  async recordProgress(projection: string, version: number, progress: readonly PartitionProgress[]): Promise<void> {
    if (progress.length === 0) return;
    await this.engine.insert(
      this.table('projection_progress'),
      progress.map((p) => ({
        name: projection,
        version,
        topic: p.topic,
        partition: p.partition,
        offset: p.offset,
        event_time: clickhouseTime(p.eventTimeMs),
        projected_at: clickhouseTime(p.projectedAtMs),
      })),
    );
  }

  async progress(projection: string, version: number): Promise<PartitionProgress[]> {
    const rows = await this.engine.query<{
      topic: string;
      partition: number;
      last_offset: string;
      event_ms: string;
      projected_ms: string;
    }>(
      `SELECT topic, partition, max(offset) AS last_offset,
              toUnixTimestamp64Milli(argMax(event_time, offset)) AS event_ms,
              toUnixTimestamp64Milli(argMax(projected_at, offset)) AS projected_ms
       FROM ${this.table('projection_progress')}
       WHERE name = {projection:String} AND version = {version:UInt32}
       GROUP BY topic, partition ORDER BY topic, partition`,
      { projection, version },
    );
    return rows.map((r) => ({
      topic: r.topic,
      partition: Number(r.partition),
      offset: Number(r.last_offset),
      eventTimeMs: Number(r.event_ms),
      projectedAtMs: Number(r.projected_ms),
    }));
  }

  private async createViews(projection: Projection, version: number, replace: boolean): Promise<void> {
    for (const view of projection.views(this.database, version)) {
      const target = this.table(view.name);
      if (!replace) {
        await this.engine.command(`CREATE VIEW IF NOT EXISTS ${target} AS ${view.select}`);
        continue;
      }
      const staging = this.table(`${view.name}__swap_${randomUUID().replaceAll('-', '').slice(0, 12)}`);
      await this.engine.command(`CREATE VIEW ${staging} AS ${view.select}`);
      await this.engine.command(`EXCHANGE TABLES ${target} AND ${staging}`);
      await this.engine.command(`DROP VIEW IF EXISTS ${staging}`);
    }
  }
}
