import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGuard } from '../../guard/guard.js';
import type { ClickHouseEngine } from '../../pipeline/clickhouse/engine.js';
import { ServerEngine } from '../../pipeline/clickhouse/serverEngine.js';
import { freePort } from '../../test/support/freePort.js';
import { API_KEY, startTestGuard, testGuardConfig } from '../../test/support/guard.js';
import { KesProcess } from '../../test/support/kesProcess.js';
import { OpenApiContract } from '../../test/support/openApiContract.js';
import { testProjectorSettings } from '../../test/support/projector.js';
import { openTestEngine, type TestEngine } from '../../test/support/readModelFixture.js';
import { waitFor } from '../../test/support/waitFor.js';
import { runWorkload } from '../../verify/load/workload.js';
import { type RunningProjector, startProjector } from '../projector.js';

/**
 * The projector's OpenAPI document against a real projector (real Kafka, real ClickHouse), fed by a real guard:
 * every documented status of every route is provoked and each body checked against the schema documented for it.
 */
describe('the projector answers as its OpenAPI document says', () => {
  const setup = testGuardConfig();
  let guard: RunningGuard;
  let engine: ClickHouseEngine;
  let dir: string;
  let scratch: TestEngine | undefined;
  let projector: RunningProjector | undefined;
  let cutOff: RunningProjector | undefined;
  let deadEngine: ServerEngine | undefined;
  let clickhouse: KesProcess | undefined;
  let clickhouseDir: string | undefined;

  beforeAll(async () => {
    guard = await startTestGuard(setup);
    scratch = await openTestEngine('contract');
    ({ engine, dir } = scratch);
  }, 120_000);
  afterAll(async () => {
    await projector?.close();
    await cutOff?.close();
    await deadEngine?.close();
    await clickhouse?.stop();
    if (clickhouseDir) rmSync(clickhouseDir, { recursive: true, force: true });
    await guard?.close();
    await scratch?.dispose();
  });

  it('documents every route, and every documented status is a real answer of its shape', async () => {
    const config = testProjectorSettings({ ...setup.config, CLICKHOUSE_EMBEDDED_PATH: dir });
    await runWorkload({ urls: [guard.url], apiKey: API_KEY, category: 'web', streams: 3, concurrency: 2, appends: 12 });
    projector = await startProjector(config, { engine });
    const url = projector.url;
    const contract = await OpenApiContract.load(url);
    const call = (path: string, concrete: string) => contract.call(url, 'GET', path, concrete);
    await waitFor(
      'web-0 projected',
      async () => ((await (await fetch(`${url}/streams/web-0/events`)).json()) as { events: [] }).events.length > 0,
      60_000,
    );

    expect((await call('/health/live', '/health/live')).body).toEqual({ status: 'ok', checks: {} });
    const ready = await call('/health/ready', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ok', checks: { events: { status: 'ok' } } });
    const metrics = await call('/metrics', '/metrics');
    expect(metrics.body).toContain('kes_projector_lag_records');
    expect(metrics.body).toContain('process_resident_memory_bytes');
    expect((await call('/projections', '/projections')).status).toBe(200);
    expect((await call('/reports', '/reports')).status).toBe(200);
    expect((await call('/reports/{name}', '/reports/event-types')).status).toBe(200);
    expect((await call('/reports/{name}', '/reports/event-types?limit=x')).status).toBe(400);
    expect((await call('/reports/{name}', '/reports/nope')).status).toBe(404);
    const page = await call('/streams/{stream}/events', '/streams/web-0/events?limit=2');
    expect(page.status).toBe(200);
    expect(page.headers.get('x-request-id')).toBeTruthy();
    expect((await call('/streams/{stream}/events', '/streams/nohyphen/events')).status).toBe(400);

    // The read models gone from under it: reads answer 503 read_models_missing.
    await engine.query(`DROP DATABASE ${config.KES_CLICKHOUSE_DATABASE}`);
    expect((await call('/reports/{name}', '/reports/event-types')).status).toBe(503);
    expect((await call('/streams/{stream}/events', '/streams/web-0/events')).status).toBe(503);

    // ClickHouse gone: a projector whose ClickHouse (a `kes clickhouse serve` process of this test's) is killed
    // after it started answers its reads 500 read_failed, not fastify's default body. It runs no projection, so
    // that nothing but the reads meets the dead engine.
    clickhouseDir = mkdtempSync(join(tmpdir(), 'kes-contract-dead-chdb-'));
    const clickhouseUrl = `http://127.0.0.1:${await freePort()}`;
    clickhouse = new KesProcess(
      'clickhouse',
      ['clickhouse', 'serve', '--path', clickhouseDir, '--port', new URL(clickhouseUrl).port],
      `${clickhouseUrl}/ping`,
      {},
    );
    await clickhouse.start();
    deadEngine = new ServerEngine(clickhouseUrl);
    cutOff = await startProjector(config, { engine: deadEngine, projections: [] });
    await clickhouse.kill();
    for (const [path, concrete] of [
      ['/reports/{name}', '/reports/event-types'],
      ['/streams/{stream}/events', '/streams/web-0/events'],
    ] as const) {
      const failed = await contract.call(cutOff.url, 'GET', path, concrete);
      expect(failed.status).toBe(500);
      expect(failed.body).toMatchObject({ error: 'read_failed', retriable: true });
    }

    // /health/ready's 503 is the same code and schema as the guard's (pipeline/http/standardRoutes.ts), provoked
    // there (guardContract.int.test.ts); a projector is ready as soon as its consumers run, too soon to catch.
    expect(contract.uncovered()).toEqual(['GET /health/ready 503']);
    expect(contract.undocumented()).toEqual([]);
  }, 180_000);
});
