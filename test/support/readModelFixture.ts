import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseEngine } from '../../pipeline/clickhouse/engine.js';
import { openEngine } from '../../pipeline/clickhouse/openEngine.js';
import { ProjectionCatalog } from '../../projectors/catalog/projectionCatalog.js';
import { eventsProjection } from '../../projectors/readModels/eventsProjection.js';
import { versioned } from '../../projectors/readModels/projection.js';
import type { DecodedEvent } from '../../projectors/run/decodedEvent.js';
import { uniqueName } from './names.js';
import { stack } from './stack.js';

/**
 * A private read-model database with known events, for the tests of reports and reads. The engine is the stack's
 * ClickHouse server when it has one, else an embedded engine on a temporary data path of this test file's own
 * (one process holds an embedded data path; test files run in parallel processes).
 */
export interface ReadModelFixture {
  engine: ClickHouseEngine;
  database: string;
  catalog: ProjectionCatalog;
  /** The embedded data path (undefined on a server): a child process may open it once `engine` is closed. */
  embeddedPath: string | undefined;
  /** Env for a `kes` child process that should read this database. */
  env: Record<string, string>;
  /**
   * Lets a child process open the data: closes the embedded engine (one process holds a data path), keeping the
   * data. A server needs nothing.
   */
  releaseForChild(): Promise<void>;
  dispose(): Promise<void>;
}

export async function openReadModels(): Promise<ReadModelFixture> {
  const serverUrl = stack().clickhouseUrl;
  const dir = serverUrl ? undefined : mkdtempSync(join(tmpdir(), 'kes-reports-'));
  const engine = await openEngine({ CLICKHOUSE_URL: serverUrl, CLICKHOUSE_EMBEDDED_PATH: dir ?? tmpdir() });
  const database = uniqueName('kes_test');
  const catalog = new ProjectionCatalog(engine, database, `${database}.`);
  await catalog.install(eventsProjection);
  const env: Record<string, string> = { KES_CLICKHOUSE_DATABASE: database };
  if (serverUrl) env.CLICKHOUSE_URL = serverUrl;
  if (dir) env.CLICKHOUSE_EMBEDDED_PATH = dir;
  let closed = false;
  return {
    engine,
    database,
    catalog,
    embeddedPath: dir,
    env,
    async releaseForChild() {
      if (dir && !closed) {
        closed = true;
        await engine.close();
      }
    },
    async dispose() {
      if (!closed) {
        closed = true;
        if (serverUrl) await engine.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
        await engine.close();
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The engine a projector test reads with: the stack's ClickHouse server when it has one, else an embedded engine on
 * `dir`, a temporary data path of its own (the test's projector gets the same `dir`). `dispose` closes it and removes
 * `dir`.
 */
export interface TestEngine {
  engine: ClickHouseEngine;
  dir: string;
  dispose(): Promise<void>;
}

export async function openTestEngine(name: string): Promise<TestEngine> {
  const dir = mkdtempSync(join(tmpdir(), `kes-${name}-chdb-`));
  const engine = await openEngine({ CLICKHOUSE_URL: stack().clickhouseUrl, CLICKHOUSE_EMBEDDED_PATH: dir });
  return {
    engine,
    dir,
    async dispose() {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Inserts the events' rows into version `version` of the events projection's sink table. */
export async function insertEvents(
  fixture: Pick<ReadModelFixture, 'engine' | 'database'>,
  events: readonly DecodedEvent[],
  version = 1,
): Promise<void> {
  await fixture.engine.insert(
    versioned(fixture.database, eventsProjection.sinkTable, version).replaceAll('`', ''),
    events.flatMap((e): Record<string, unknown>[] => {
      const row = eventsProjection.row(e);
      return row ? [row] : [];
    }),
  );
}

const at = (iso: string) => Date.parse(iso);

/** One event of the fixture: stream, version, type, time (ISO), position. */
function event(
  stream: string,
  version: number,
  type: string,
  time: string,
  partition: number,
  offset: number,
): DecodedEvent {
  const category = stream.slice(0, stream.indexOf('-'));
  return {
    topic: `kes.events.${category}`,
    partition,
    offset,
    stream,
    category,
    version,
    eventId: `${category}-${partition}-${offset}`,
    type,
    timeMs: at(time),
    dataJson: JSON.stringify({ n: version, stream }),
    metadataJson: JSON.stringify({ source: 'fixture' }),
  };
}

/**
 * Ten events in two categories on 2026-01-10 (UTC), chosen so that every report has minutes, hours and ranges to
 * tell apart:
 *
 * | stream    | v | type           | time              |
 * | account-1 | 0 | AccountOpened  | 10:00:05.000      |
 * | account-1 | 1 | MoneyDeposited | 10:00:30.000      |
 * | account-1 | 2 | MoneyDeposited | 10:01:10.000      |
 * | account-1 | 3 | MoneyDeposited | 10:59:59.999      |
 * | account-1 | 4 | MoneyWithdrawn | 11:00:00.000      |
 * | account-2 | 0 | AccountOpened  | 10:00:10.000      |
 * | account-2 | 1 | MoneyDeposited | 11:30:00.000      |
 * | order-1   | 0 | OrderPlaced    | 10:00:20.000      |
 * | order-1   | 1 | ItemAdded      | 10:02:00.000      |
 * | order-1   | 2 | OrderShipped   | 12:00:00.500      |
 */
export const fixtureEvents: readonly DecodedEvent[] = [
  event('account-1', 0, 'AccountOpened', '2026-01-10T10:00:05.000Z', 0, 0),
  event('account-1', 1, 'MoneyDeposited', '2026-01-10T10:00:30.000Z', 0, 1),
  event('account-1', 2, 'MoneyDeposited', '2026-01-10T10:01:10.000Z', 0, 2),
  event('account-1', 3, 'MoneyDeposited', '2026-01-10T10:59:59.999Z', 0, 3),
  event('account-1', 4, 'MoneyWithdrawn', '2026-01-10T11:00:00.000Z', 0, 4),
  event('account-2', 0, 'AccountOpened', '2026-01-10T10:00:10.000Z', 1, 0),
  event('account-2', 1, 'MoneyDeposited', '2026-01-10T11:30:00.000Z', 1, 1),
  event('order-1', 0, 'OrderPlaced', '2026-01-10T10:00:20.000Z', 0, 0),
  event('order-1', 1, 'ItemAdded', '2026-01-10T10:02:00.000Z', 0, 1),
  event('order-1', 2, 'OrderShipped', '2026-01-10T12:00:00.500Z', 0, 2),
];

/**
 * The fixture as a projector would write it after retries: every event once, then the first half again and the
 * account events again in separate inserts (a batch written twice, a zombie's late batch).
 */
export async function insertFixture(fixture: Pick<ReadModelFixture, 'engine' | 'database'>): Promise<void> {
  await insertEvents(fixture, fixtureEvents);
  await insertEvents(fixture, fixtureEvents.slice(0, 5));
  await insertEvents(
    fixture,
    fixtureEvents.filter((e) => e.category === 'account'),
  );
}
