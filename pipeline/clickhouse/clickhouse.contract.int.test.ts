import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../../test/support/names.js';
import { stack } from '../../test/support/stack.js';
import { EmbeddedEngine } from './embeddedEngine.js';
import type { ClickHouseEngine } from './engine.js';
import { HttpFacade } from './httpFacade.js';
import { openEngine } from './openEngine.js';
import { ServerEngine } from './serverEngine.js';

/**
 * One contract, run on every engine: the same SQL text must behave the same on the ClickHouse server (through
 * @clickhouse/client over HTTP), on the embedded engine in-process, and on the embedded engine of another process
 * through its owner's HTTP facade (the same client and SQL as for a server). The SQL here is the subset the 18.16 server this
 * machine can install understands; modern-only SQL is tested on the engines that have it, in later suites.
 */
const engines: {
  name: string;
  open: () => Promise<{ engine: ClickHouseEngine; dispose: () => Promise<void> | void }>;
}[] = [
  {
    name: 'server (@clickhouse/client over HTTP)',
    open: async () => {
      const url = stack().clickhouseUrl ?? stack().clickhouseServerUrl;
      if (!url) {
        throw new Error(
          'no ClickHouse server in this stack: install one (apt-get install -y clickhouse-server) and run `kes stack up`',
        );
      }
      return { engine: new ServerEngine(url), dispose: () => undefined };
    },
  },
  {
    name: 'embedded (chdb, in-process)',
    open: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kes-chdb-test-'));
      return { engine: await EmbeddedEngine.open(dir), dispose: () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'embedded over the HTTP facade (ServerEngine -> facade -> chdb)',
    open: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kes-chdb-facade-test-'));
      const owner = await EmbeddedEngine.open(dir);
      const facade = await HttpFacade.start(owner, {
        port: 0,
        maxBodyBytes: 16 * 1024 * 1024,
        version: await owner.version(),
      });
      return {
        engine: new ServerEngine(facade.url, { kind: 'embedded-remote' }),
        dispose: async () => {
          await facade.close();
          await owner.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
];

const rows = Array.from({ length: 1000 }, (_, i) => ({
  stream: `account-${i % 10}`,
  version: Math.floor(i / 10),
  event_id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  type: i % 3 === 0 ? 'Withdrawn' : 'Deposited',
  at: `2026-11-26 10:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}`,
  data: JSON.stringify({ amount: i, currency: 'EUR' }),
}));

describe.each(engines)('ClickHouse contract: $name', ({ open }) => {
  let engine: ClickHouseEngine;
  let dispose: () => void;
  const db = uniqueName('kes_test');

  beforeAll(async () => {
    ({ engine, dispose } = await open());
    await engine.command(`CREATE DATABASE IF NOT EXISTS ${db}`);
  });

  afterAll(async () => {
    await engine.command(`DROP DATABASE IF EXISTS ${db}`).catch(() => undefined);
    await engine.close();
    await dispose();
  });

  it('runs DDL, a batch insert and aggregate selects', async () => {
    await engine.command(`
      CREATE TABLE ${db}.events (
        stream String, version UInt64, event_id String, type String, at DateTime, data String
      ) ENGINE = MergeTree ORDER BY (stream, version)`);
    await engine.insert(`${db}.events`, rows);

    const [total] = await engine.query<{ n: string; streams: string }>(
      `SELECT count() AS n, uniqExact(stream) AS streams FROM ${db}.events`,
    );
    expect(Number(total?.n)).toBe(1000);
    expect(Number(total?.streams)).toBe(10);

    const perStream = await engine.query<{ stream: string; events: string; last: string }>(
      `SELECT stream, count() AS events, max(version) AS last FROM ${db}.events GROUP BY stream ORDER BY stream`,
    );
    expect(perStream).toHaveLength(10);
    expect(perStream.map((r) => [r.stream, Number(r.events), Number(r.last)])).toContainEqual(['account-3', 100, 99]);

    const [amounts] = await engine.query<{ withdrawn: string }>(
      `SELECT sum(visitParamExtractUInt(data, 'amount')) AS withdrawn FROM ${db}.events WHERE type = 'Withdrawn'`,
    );
    const expected = rows.filter((r) => r.type === 'Withdrawn').reduce((s, r) => s + JSON.parse(r.data).amount, 0);
    expect(Number(amounts?.withdrawn)).toBe(expected);
  });

  it('ReplacingMergeTree with FINAL answers exactly even when a batch was inserted twice', async () => {
    await engine.command(`
      CREATE TABLE ${db}.heads (stream String, version UInt64, type String)
      ENGINE = ReplacingMergeTree(version) ORDER BY stream`);
    const batch = rows.map((r) => ({ stream: r.stream, version: r.version, type: r.type }));
    await engine.insert(`${db}.heads`, batch);
    await engine.insert(`${db}.heads`, batch);
    const heads = await engine.query<{ stream: string; version: string }>(
      `SELECT stream, version FROM ${db}.heads FINAL ORDER BY stream`,
    );
    expect(heads).toHaveLength(10);
    expect(heads.every((h) => Number(h.version) === 99)).toBe(true);
  });

  it('reports a bad query as an error naming the engine and the statement', async () => {
    await expect(engine.query(`SELECT no_such_column FROM ${db}.events`)).rejects.toThrow(/no_such_column/);
  });
});

describe('embedded engine and the event loop', () => {
  it('runs a long query off the event loop: timers keep firing while it runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kes-chdb-loop-'));
    const engine = await EmbeddedEngine.open(dir);
    try {
      let ticks = 0;
      const timer = setInterval(() => {
        ticks++;
      }, 10);
      const started = Date.now();
      // Half a second inside the engine whatever the machine's speed; a synchronous call would hold the loop for all of it.
      const rows = await engine.query<{ z: number }>('SELECT sleepEachRow(0.05) AS z FROM numbers(10)');
      const elapsed = Date.now() - started;
      clearInterval(timer);
      expect(rows).toHaveLength(10);
      expect(elapsed).toBeGreaterThanOrEqual(450);
      // A blocked loop would tick at most once; a free one ticks roughly every 10 ms of the query.
      expect(ticks).toBeGreaterThan(Math.floor(elapsed / 10 / 4));
    } finally {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('openEngine', () => {
  it('uses the server at CLICKHOUSE_URL when set, else the embedded engine at its data path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kes-chdb-open-'));
    const embedded = await openEngine({
      CLICKHOUSE_URL: undefined,
      CLICKHOUSE_EMBEDDED_PATH: dir,
      KES_CLICKHOUSE_EMBEDDED_PORT: 0,
    });
    expect(embedded.kind).toBe('embedded');
    expect(await embedded.version()).toMatch(/^2\d\./);
    // A second opener in this process finds the owner (this process) and goes through its facade.
    const second = await openEngine({ CLICKHOUSE_URL: undefined, CLICKHOUSE_EMBEDDED_PATH: dir });
    expect(second.kind).toBe('embedded-remote');
    expect(await second.version()).toBe(await embedded.version());
    await second.close();
    await embedded.close();
    rmSync(dir, { recursive: true, force: true });
    const url = stack().clickhouseUrl ?? stack().clickhouseServerUrl;
    if (!url) throw new Error('no ClickHouse server in this stack');
    const server = await openEngine({ CLICKHOUSE_URL: url, CLICKHOUSE_EMBEDDED_PATH: dir });
    expect(server.kind).toBe('server');
    expect(await server.version()).toMatch(/^\d+\.\d+/);
    await server.close();
  });
});
