import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunningGuard } from '../../guard/guard.js';
import { ServerEngine } from '../../pipeline/clickhouse/serverEngine.js';
import { createKafka } from '../../pipeline/kafka/kafkaClient.js';
import { freePort } from '../../test/support/freePort.js';
import { API_KEY, startTestGuard, testGuardConfig } from '../../test/support/guard.js';
import { KesProcess } from '../../test/support/kesProcess.js';
import { uniqueName } from '../../test/support/names.js';
import { projectorEnv, testProjectorSettings } from '../../test/support/projector.js';
import { waitFor } from '../../test/support/waitFor.js';
import { readCommittedEvents } from '../../verify/history/topicContents.js';
import { runWorkload } from '../../verify/load/workload.js';
import { compareReadModels } from '../../verify/readModels/readModelCheck.js';
import { ProjectionCatalog } from '../catalog/projectionCatalog.js';

/**
 * Projector processes under faults while a guarded load runs: a projector that kills itself between the insert and
 * the offset commit (failpoint), a second projector joining (rebalance mid-insert), killed -9 and restarted, then
 * leaving (scale 1 -> 2 -> 1), and the ClickHouse engine itself killed -9 and restarted mid-insert. Afterwards the
 * read models must equal the log. `scripts/projector-faults.sh --seconds N` runs it longer.
 */
const seconds = Number(process.env.KES_PROJECTOR_FAULT_SECONDS ?? 20);

describe('projector faults', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  });

  it(`read models equal the log after crashes, rebalances and a ClickHouse restart (${seconds} s of load)`, async () => {
    const setup = testGuardConfig();
    const guard: RunningGuard = await startTestGuard(setup);
    cleanups.push(() => guard.close());
    const kafka: Kafka = createKafka(setup.config, uniqueName('faults'), { logLevel: logLevel.NOTHING });

    // ClickHouse: the embedded engine in a process of its own, so that it can crash and restart.
    const dataPath = mkdtempSync(join(tmpdir(), 'kes-faults-chdb-'));
    cleanups.push(async () => rmSync(dataPath, { recursive: true, force: true }));
    const enginePort = await freePort();
    const clickhouseUrl = `http://127.0.0.1:${enginePort}`;
    const clickhouse = new KesProcess(
      'clickhouse',
      ['clickhouse', 'serve', '--path', dataPath, '--port', String(enginePort)],
      `${clickhouseUrl}/ping`,
      {},
    );
    await clickhouse.start();
    cleanups.push(() => clickhouse.stop());

    const config = testProjectorSettings({ ...setup.config, CLICKHOUSE_URL: clickhouseUrl });
    const env = projectorEnv(config);
    const projector = async (name: string) => {
      const port = await freePort();
      const p = new KesProcess(name, ['project', '--port', String(port)], `http://127.0.0.1:${port}/health/live`, env);
      cleanups.push(() => p.stop());
      return p;
    };
    const p1 = await projector('projector-1');
    const p2 = await projector('projector-2');
    const crashy = { KES_FAILPOINTS: 'projector-after-insert:0.15' };

    const controller = new AbortController();
    const load = runWorkload({
      urls: [guard.url],
      apiKey: API_KEY,
      category: 'acct',
      streams: 40,
      concurrency: 8,
      durationMs: seconds * 1000,
      signal: controller.signal,
    });
    const began = Date.now();
    const at = (fraction: number) =>
      waitFor(`t=${fraction}`, async () => Date.now() - began >= fraction * seconds * 1000, seconds * 2000, 50);
    // projector-1 restarts whenever its failpoint kills it.
    let keepRestarting = true;
    const restarter = (async () => {
      while (keepRestarting) {
        if (!p1.running) await p1.start(crashy).catch(() => {});
        await new Promise((r) => setTimeout(r, 200));
      }
    })();

    await at(0.15);
    await p2.start(); // 1 -> 2: a rebalance while projector-1 inserts
    await at(0.35);
    await p2.kill(); // kill -9 mid-batch
    await p2.start();
    await at(0.55);
    await clickhouse.kill(); // ClickHouse dies mid-insert…
    await new Promise((r) => setTimeout(r, 1_000));
    await clickhouse.start(); // …and comes back on the same data
    await at(0.75);
    await p2.stop(); // 2 -> 1
    const stats = await load;
    keepRestarting = false;
    await restarter;
    await p1.stop();
    await p1.start(); // without the failpoint, so it can finish

    const committed = await readCommittedEvents(kafka, { topicPrefix: setup.topicPrefix });
    const engine = new ServerEngine(clickhouseUrl);
    cleanups.push(() => engine.close());
    const catalog = new ProjectionCatalog(engine, config.KES_CLICKHOUSE_DATABASE, config.KES_PROJECTOR_GROUP_PREFIX);
    await waitFor(
      'read models caught up',
      async () => (await compareReadModels(catalog, committed)).figures.rows >= committed.length,
      90_000,
      500,
    );
    const { violations, figures } = await compareReadModels(catalog, committed);
    const failpointKills = p1.exits.filter((e) => e === 'SIGKILL').length;
    console.log(
      `projector faults: ${stats.appends} appends, ${committed.length} committed events, ${figures.storedRows} rows stored ` +
        `(at least ${figures.storedRows - figures.rows} replayed duplicates not merged yet), projector-1 killed itself ${failpointKills} times, ` +
        `projector-2 started ${p2.starts} times, ClickHouse started ${clickhouse.starts} times`,
    );
    expect(violations).toEqual([]);
    expect(figures.rows).toBe(committed.length);
    expect(figures.distinctIds).toBe(committed.length);
    expect(failpointKills).toBeGreaterThan(0);
    expect(clickhouse.starts).toBe(2);
    expect(committed.length).toBeGreaterThan(500);
  }, 300_000);
});
