import { join } from 'node:path';
import { ProjectionCatalog } from '../../projectors/catalog/projectionCatalog.js';
import { qualified, quote, versioned } from '../../projectors/readModels/projection.js';
import { formatNumber } from '../support/figures.js';
import { progress } from '../support/run.js';
import { consumeAll } from './consume.js';
import { nullEngine, TimedEngine } from './engines.js';
import { cpuLine } from './phaseCpu.js';
import { PROJECTION, type PreloadResult, type ProjectorRun } from './projectorRun.js';

const fmt = (n: number | undefined, digits = 0) => formatNumber(n, digits);

function preloaded(run: ProjectorRun): { loaded: PreloadResult; ends: Map<number, number> } | undefined {
  if (run.preload && run.ends) return { loaded: run.preload, ends: run.ends };
  progress('  no pre-load ran: nothing to consume (the preload phase fills the topic)');
  return undefined;
}

/** Phase raw: the Projector with an engine whose every statement does nothing (consume, decode, rows, batches). */
export async function rawPhase(run: ProjectorRun): Promise<void> {
  const topicOf = preloaded(run);
  if (!topicOf) return;
  const { loaded, ends } = topicOf;
  const { config } = run;
  progress('raw consume + decode (Projector, engine without a sink)');
  run.raw = await run.measure('raw consume + decode', async (attempt, idleBefore) => {
    const sink = versioned(config.KES_CLICKHOUSE_DATABASE, PROJECTION.sinkTable, 1);
    const nothing = new TimedEngine(nullEngine(), sink);
    const group = `${run.namespace}.load.raw.${attempt}`;
    run.groups.push(group);
    const r = await consumeAll({
      label: 'raw consume + decode',
      kafka: run.kafka,
      engine: nothing,
      catalog: new ProjectionCatalog(nothing, config.KES_CLICKHOUSE_DATABASE, config.KES_PROJECTOR_GROUP_PREFIX),
      version: 1,
      group,
      topic: run.topic,
      ends,
      config,
      cpu: run.cpu,
      idleBefore,
      profiler: run.profiler,
      profileFile: join(run.runDir, `raw-${attempt}.cpuprofile`),
      timeoutMs: 600_000,
    });
    if (r.events !== loaded.events) throw new Error(`raw phase saw ${r.events} events, expected ${loaded.events}`);
    progress(
      `  ${fmt(r.events)} events in ${r.seconds.toFixed(2)} s = ${fmt(r.eventsPerSecond)} events/s ` +
        `(group join ${r.joinSeconds.toFixed(2)} s); ${r.inserts} batches of ${fmt(r.meanRowsPerInsert)} rows on average; ${cpuLine(r.cpu)}`,
    );
    return r;
  });
}

/**
 * Phase clickhouse: the same into the real engine, the projection installed in a database of its own; then
 * count() of its events view must equal the pre-load.
 */
export async function clickhousePhase(run: ProjectorRun): Promise<void> {
  const topicOf = preloaded(run);
  if (!topicOf) return;
  const { loaded, ends } = topicOf;
  const { config } = run;
  const { engine, version, where } = await run.engine();
  const n = run.options.projectors;
  progress(
    `projector into ClickHouse: ${engine.kind} engine ${version} at ${where}${n > 1 ? `, ${n} projectors in one group` : ''}`,
  );
  run.clickhouse = await run.measure('the projector into ClickHouse', async (attempt, idleBefore) => {
    // Every attempt on a database and consumer group of its own; the previous attempt's database is dropped.
    const database = attempt === 1 ? config.KES_CLICKHOUSE_DATABASE : `${config.KES_CLICKHOUSE_DATABASE}_${attempt}`;
    for (const db of run.databases.splice(0)) {
      await engine.command(`DROP DATABASE IF EXISTS ${quote(db)}`).catch(() => {});
    }
    run.databases.push(database);
    const timed = new TimedEngine(engine, versioned(database, PROJECTION.sinkTable, 1));
    const catalog = new ProjectionCatalog(timed, database, `${config.KES_PROJECTOR_GROUP_PREFIX}${attempt}.`);
    const serving = await catalog.install(PROJECTION);
    run.groups.push(serving.group);
    const r = await consumeAll({
      label: 'projector into ClickHouse',
      kafka: run.kafka,
      engine: timed,
      catalog,
      version: serving.version,
      group: serving.group,
      topic: run.topic,
      ends,
      config,
      cpu: run.cpu,
      idleBefore,
      profiler: run.profiler,
      profileFile: join(run.runDir, `clickhouse-${attempt}.cpuprofile`),
      timeoutMs: 900_000,
      instances: run.options.projectors,
    });
    const [counted] = await engine.query<{ n: number | string }>(
      `SELECT count() AS n FROM ${qualified(database, 'events')}`,
    );
    const inView = Number(counted?.n ?? 0);
    if (inView !== loaded.events) {
      throw new Error(`the events view of ${database} has ${inView} events, expected ${loaded.events}`);
    }
    const vsRaw = run.raw ? `, ${(r.eventsPerSecond / run.raw.eventsPerSecond).toFixed(2)} × raw` : '';
    progress(
      `  ${fmt(r.events)} events in ${r.seconds.toFixed(2)} s = ${fmt(r.eventsPerSecond)} events/s${vsRaw} ` +
        `(group join ${r.joinSeconds.toFixed(2)} s); count(events) in ${database} = ${fmt(inView)}; ${r.inserts} inserts of ${fmt(r.meanRowsPerInsert)} rows ` +
        `on average, ${fmt(r.meanInsertMs)} ms each (${Math.round(r.insertShareOfWall * 100)}% of the wall time); ${cpuLine(r.cpu)}`,
    );
    return { ...r, countInEventsView: inView };
  });
}
