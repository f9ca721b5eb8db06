import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  type ClickHouseClient,
  ClickHouseError,
  ClickHouseLogLevel,
  createClient,
  TupleParam,
} from '@clickhouse/client';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../../test/support/names.js';
import { ServiceUnavailableError } from '../errors.js';
import { EmbeddedEngine } from './embeddedEngine.js';
import { ClickHouseQueryError, type QueryParams } from './engine.js';
import { HttpFacade } from './httpFacade.js';
import { ServerEngine } from './serverEngine.js';

/**
 * The facade on its own: an embedded engine in this process, served over HTTP, and @clickhouse/client (directly
 * and through ServerEngine) against it. Every answer is compared with what the embedded engine says in-process
 * or with what ClickHouse's HTTP interface is documented to answer.
 */

let dir: string;
let engine: EmbeddedEngine;
let facade: HttpFacade;
let client: ClickHouseClient;
let remote: ServerEngine;
const db = uniqueName('kes_facade');

function newClient(options: Parameters<typeof createClient>[0] = {}): ClickHouseClient {
  return createClient({ url: facade.url, log: { level: ClickHouseLogLevel.OFF }, ...options });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kes-facade-'));
  engine = await EmbeddedEngine.open(dir);
  facade = await HttpFacade.start(engine, { port: 0, maxBodyBytes: 8 * 1024 * 1024, version: await engine.version() });
  client = newClient();
  remote = new ServerEngine(facade.url, { kind: 'embedded-remote' });
  await engine.command(`CREATE DATABASE ${db}`);
  await engine.command(`CREATE TABLE ${db}.t (id UInt32, name String) ENGINE = MergeTree ORDER BY id`);
});

afterAll(async () => {
  await client?.close();
  await remote?.close();
  await facade?.close();
  await engine?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('HTTP facade: protocol', () => {
  it('answers /ping and GET / with "Ok.", and the client ping succeeds', async () => {
    for (const path of ['/ping', '/']) {
      const response = await fetch(`${facade.url}${path}`);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('Ok.\n');
    }
    expect((await client.ping()).success).toBe(true);
  });

  it('takes the statement from the URL, the body, or both joined by a newline', async () => {
    const get = await fetch(`${facade.url}/?query=${encodeURIComponent('SELECT 1 + 1')}`);
    expect(await get.text()).toBe('2\n');
    const body = await fetch(facade.url, { method: 'POST', body: 'SELECT 2 + 2' });
    expect(await body.text()).toBe('4\n');
    const both = await fetch(`${facade.url}/?query=SELECT`, { method: 'POST', body: '3 + 3 AS x FORMAT JSONEachRow' });
    expect(both.headers.get('x-clickhouse-format')).toBe('JSONEachRow');
    expect(await both.json()).toEqual({ x: 6 });
  });

  it('inserts JSONEachRow through chdb raw insert, with and without a column list, gzip-compressed or not', async () => {
    await client.insert({ table: `${db}.t`, values: [{ id: 1, name: 'one' }], format: 'JSONEachRow' });
    await client.insert({ table: `${db}.t`, values: [{ id: 2 }], format: 'JSONEachRow', columns: ['id'] });
    const gzipClient = newClient({ compression: { request: true } });
    await gzipClient.insert({ table: `${db}.t`, values: [{ id: 3, name: 'three' }], format: 'JSONEachRow' });
    await gzipClient.close();
    // The same insert the client sends, by hand, to see the summary header.
    const response = await fetch(
      `${facade.url}/?query=${encodeURIComponent(`INSERT INTO \`${db}\`.\`t\` FORMAT JSONEachRow`)}`,
      {
        method: 'POST',
        body: gzipSync('{"id":4,"name":"four"}\n{"id":5,"name":"five"}\n'),
        headers: { 'content-encoding': 'gzip' },
      },
    );
    expect(response.status).toBe(200);
    expect(JSON.parse(response.headers.get('x-clickhouse-summary') ?? '{}')).toMatchObject({ written_rows: '2' });
    // A statement with inline data takes the other path (no raw insert): VALUES in the body.
    await remote.command(`INSERT INTO ${db}.t VALUES (6, 'six')`);
    const rows = await engine.query<{ id: number; name: string }>(`SELECT id, name FROM ${db}.t ORDER BY id`);
    expect(rows).toEqual([
      { id: 1, name: 'one' },
      { id: 2, name: '' },
      { id: 3, name: 'three' },
      { id: 4, name: 'four' },
      { id: 5, name: 'five' },
      { id: 6, name: 'six' },
    ]);
  });

  it('uses `database` as the default database and passes other URL parameters as settings of that statement only', async () => {
    const scoped = newClient({ database: db });
    const [row] = await (await scoped.query({ query: 'SELECT count() AS n FROM t', format: 'JSONEachRow' })).json<{
      n: number;
    }>();
    expect(Number(row?.n)).toBeGreaterThan(0);
    await scoped.close();

    // Settings on some statements, none on others, all at once: each answer follows its own settings.
    const results = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const quoted = i % 2 === 0;
        const result = await client.query({
          query: "SELECT toUInt64(7) AS u, getSetting('max_threads') AS threads",
          format: 'JSONEachRow',
          clickhouse_settings: quoted ? { output_format_json_quote_64bit_integers: 1, max_threads: 1 } : {},
        });
        return { quoted, row: (await result.json<{ u: unknown; threads: unknown }>())[0] };
      }),
    );
    for (const { quoted, row } of results) {
      expect(row?.u).toEqual(quoted ? '7' : 7);
      if (quoted) expect(Number(row?.threads)).toBe(1);
      else expect(Number(row?.threads)).not.toBe(1);
    }
    const unknown = await client
      .query({ query: 'SELECT 1', clickhouse_settings: { no_such_setting: 1 } as never })
      .catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(ClickHouseError);
    expect((unknown as ClickHouseError).code).toBe('115');
  });
});

describe('HTTP facade: bound parameters', () => {
  const injection = `x'); DROP TABLE ${db}.t; --`;

  const cases: { name: string; sql: string; params: QueryParams }[] = [
    {
      name: 'strings with quotes, backslashes, tabs, newlines, unicode and a would-be injection',
      sql: 'SELECT {a:String} AS a, {b:String} AS b, {c:String} AS c, {d:String} AS d',
      params: { a: "it's", b: 'back\\slash \\N \\x41', c: 'tab\there\nnew line ✓ 雪', d: injection },
    },
    {
      name: 'numbers: UInt64 beyond 2^53 (bigint), negative Int64, Float64, Decimal',
      sql: 'SELECT {u:UInt64} AS u, {i:Int64} AS i, {f:Float64} AS f, {d:Decimal(20, 4)} AS d',
      params: { u: 18446744073709551615n, i: -9007199254740993n, f: 0.1, d: '12345678901234.5678' },
    },
    {
      name: 'booleans, NULL, dates',
      sql: 'SELECT {b:Bool} AS b, {n:Nullable(String)} AS n, {t:DateTime64(3)} AS t, {d:Date} AS d',
      params: { b: true, n: null, t: new Date(Date.UTC(2026, 10, 26, 10, 0, 0, 123)), d: '2026-11-26' },
    },
    {
      name: 'arrays and maps, strings in them quoted and escaped',
      sql: 'SELECT {a:Array(String)} AS a, {n:Array(UInt32)} AS n, {m:Map(String, Array(String))} AS m',
      params: { a: ["it's", 'b\\s', 'tab\t', ''], n: [1, 2, 3], m: { "k'1": ["v'1", 'v\\2'], k2: [] } },
    },
    {
      name: 'an identifier (a table name)',
      sql: 'SELECT count() AS n FROM {d:Identifier}.{t:Identifier}',
      params: { d: 'system', t: 'one' },
    },
  ];

  it.each(cases)('$name: same answer over HTTP as in-process', async ({ sql, params }) => {
    const overHttp = await remote.query(sql, params);
    const inProcess = await engine.query(sql, params);
    expect(overHttp).toEqual(inProcess);
    expect(overHttp).toHaveLength(1);
  });

  it('binds the values, never splices them: the injection text comes back verbatim and the table is still there', async () => {
    const value = injection;
    const [row] = await remote.query<{ v: string }>('SELECT {v:String} AS v', { v: value });
    expect(row?.v).toBe(value);
    await remote.command(`INSERT INTO ${db}.t SELECT 100, {v:String}`, { v: value });
    const [stored] = await remote.query<{ name: string }>(`SELECT name FROM ${db}.t WHERE id = {id:UInt32}`, {
      id: 100,
    });
    expect(stored?.name).toBe(value);
  });

  it('round-trips any string, and arrays and maps of them, exactly (fast-check)', async () => {
    const special = fc.constantFrom(
      '\\',
      "'",
      '"',
      '`',
      '\t',
      '\n',
      '\r',
      '\0',
      '\\N',
      '\\x41',
      '{a:String}',
      "['x']",
      ',',
      ':',
    );
    const text = fc
      .array(fc.oneof(special, fc.string({ unit: 'grapheme', maxLength: 4 })), { maxLength: 8 })
      .map((parts) => parts.join(''));
    await fc.assert(
      fc.asyncProperty(
        text,
        fc.array(text, { maxLength: 4 }),
        fc.dictionary(text, text, { maxKeys: 3 }),
        async (s, a, m) => {
          const [row] = await remote.query<{ s: string; a: string[]; m: Record<string, string> }>(
            'SELECT {s:String} AS s, {a:Array(String)} AS a, {m:Map(String, String)} AS m',
            { s, a, m },
          );
          expect(row).toEqual({ s, a, m });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('takes tuples, and parameters sent as multipart/form-data', async () => {
    const multipart = newClient({ use_multipart_params: true } as never);
    for (const c of [client, multipart]) {
      const result = await c.query({
        query: 'SELECT {t:Tuple(String, UInt8)} AS t, {s:String} AS s',
        format: 'JSONEachRow',
        query_params: { t: new TupleParam(["a'b", 7]), s: 'x\\y' },
      });
      expect(await result.json()).toEqual([{ t: ["a'b", 7], s: 'x\\y' }]);
    }
    await multipart.close();
  });

  it('reports a missing or unparsable parameter with ClickHouse codes 456 and 457', async () => {
    const missing = await remote.query('SELECT {a:String} AS a', {}).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ClickHouseQueryError);
    expect((missing as ClickHouseQueryError).clickhouseCode).toBe(456);
    const bad = await remote.query('SELECT {a:UInt8} AS a', { a: 'three hundred' }).catch((e: unknown) => e);
    expect((bad as ClickHouseQueryError).clickhouseCode).toBe(457);
    expect((bad as ClickHouseQueryError).clickhouseType).toBe('BAD_QUERY_PARAMETER');
  });
});

describe('HTTP facade: errors as ClickHouse sends them', () => {
  it('unknown table: HTTP 404, X-ClickHouse-Exception-Code 60, and the client raises ClickHouseError 60 naming the table', async () => {
    const response = await fetch(facade.url, { method: 'POST', body: `SELECT * FROM ${db}.no_such_table` });
    expect(response.status).toBe(404);
    expect(response.headers.get('x-clickhouse-exception-code')).toBe('60');
    expect(await response.text()).toMatch(
      /^Code: 60\. DB::Exception: .*no_such_table.*\(UNKNOWN_TABLE\) \(version 2\d\./,
    );

    const raw = await client.query({ query: `SELECT * FROM ${db}.no_such_table` }).catch((e: unknown) => e);
    expect(raw).toBeInstanceOf(ClickHouseError);
    expect((raw as ClickHouseError).code).toBe('60');
    expect((raw as ClickHouseError).type).toBe('UNKNOWN_TABLE');
    expect((raw as ClickHouseError).message).toContain('no_such_table');

    const wrapped = await remote.query(`SELECT * FROM ${db}.no_such_table`).catch((e: unknown) => e);
    expect(wrapped).toBeInstanceOf(ClickHouseQueryError);
    expect(wrapped).toMatchObject({ clickhouseCode: 60, clickhouseType: 'UNKNOWN_TABLE', engine: 'embedded-remote' });
    expect((wrapped as Error).message).toContain('no_such_table');
    // In-process, the embedded engine reports the same code.
    const local = await engine.query(`SELECT * FROM ${db}.no_such_table`).catch((e: unknown) => e);
    expect(local).toMatchObject({ clickhouseCode: 60, clickhouseType: 'UNKNOWN_TABLE', engine: 'embedded' });
  });

  it('refuses bad requests with a clear message and the right status', async () => {
    const cases: { init: RequestInit & { path?: string }; status: number; code: string; text: RegExp }[] = [
      { init: { method: 'POST', body: '  ' }, status: 400, code: '62', text: /Empty query/ },
      {
        init: { path: `/?query=${encodeURIComponent(`INSERT INTO ${db}.t VALUES (9, 'x')`)}` },
        status: 403,
        code: '164',
        text: /method GET implies readonly/,
      },
      { init: { path: '/play' }, status: 404, code: '48', text: /There is no handle \/play/ },
      { init: { method: 'PUT', body: 'SELECT 1' }, status: 405, code: '48', text: /HTTP method PUT/ },
      {
        init: { path: '/?session_id=abc&query=SELECT+1' },
        status: 501,
        code: '48',
        text: /session_id is not supported/,
      },
      {
        init: { method: 'POST', body: 'SELECT 1', headers: { 'content-encoding': 'zstd-ish' } },
        status: 400,
        code: '89',
        text: /Unknown Content-Encoding/,
      },
      {
        init: { method: 'POST', body: Buffer.from([0x53, 0x45, 0xff, 0xfe]) },
        status: 400,
        code: '48',
        text: /not UTF-8/,
      },
      {
        init: { method: 'POST', body: 'not gzip', headers: { 'content-encoding': 'gzip' } },
        status: 400,
        code: '271',
        text: /Cannot decompress/,
      },
    ];
    for (const { init, status, code, text } of cases) {
      const response = await fetch(`${facade.url}${init.path ?? '/'}`, init);
      const body = await response.text();
      expect({
        status: response.status,
        code: response.headers.get('x-clickhouse-exception-code'),
        body,
      }).toMatchObject({ status, code });
      expect(body).toMatch(text);
      expect(body).toMatch(/^Code: \d+\. DB::Exception: /);
    }
  });

  it('answers 413 with code 290 to a body over the limit, and keeps serving', async () => {
    const small = await HttpFacade.start(engine, { port: 0, maxBodyBytes: 64 * 1024, version: 'test' });
    const smallClient = createClient({ url: small.url, log: { level: ClickHouseLogLevel.OFF } });
    try {
      const rows = Array.from({ length: 5_000 }, (_, i) => ({ id: i, name: 'x'.repeat(40) }));
      const error = await smallClient
        .insert({ table: `${db}.t`, values: rows, format: 'JSONEachRow' })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ClickHouseError);
      expect((error as ClickHouseError).code).toBe('290');
      expect((error as ClickHouseError).message).toMatch(/exceeds the embedded facade's limit of 65536 bytes/);
      const ok = await smallClient.query({ query: 'SELECT 1 AS one', format: 'JSONEachRow' });
      expect(await ok.json()).toEqual([{ one: 1 }]);
    } finally {
      await smallClient.close();
      await small.close();
    }
  });

  it('maps a refused connection to ServiceUnavailableError (retriable), naming the url', async () => {
    const gone = await HttpFacade.start(engine, { port: 0, maxBodyBytes: 1024 * 1024, version: 'test' });
    const url = gone.url;
    await gone.close();
    const orphan = new ServerEngine(url, { kind: 'embedded-remote', describe: 'the test owner' });
    const error = await orphan.query('SELECT 1').catch((e: unknown) => e);
    await orphan.close();
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error).toMatchObject({ retriable: true });
    expect((error as Error).message).toBe(`the test owner is not reachable at ${url}`);
  });
});

describe('HTTP facade: the owner keeps its event loop', () => {
  it('runs a long query off the loop: timers tick and /ping answers while it runs', async () => {
    let ticks = 0;
    const timer = setInterval(() => {
      ticks++;
    }, 10);
    const started = Date.now();
    const long = remote.query('SELECT sleepEachRow(0.05) AS z FROM numbers(12)');
    const pingTimes: number[] = [];
    // Pings while the query runs: each must come back well before the query ends.
    while (Date.now() - started < 400) {
      const t = Date.now();
      expect(await (await fetch(`${facade.url}/ping`)).text()).toBe('Ok.\n');
      pingTimes.push(Date.now() - t);
      await new Promise((r) => setTimeout(r, 20));
    }
    const rows = await long;
    const elapsed = Date.now() - started;
    clearInterval(timer);
    expect(rows).toHaveLength(12);
    expect(elapsed).toBeGreaterThanOrEqual(550);
    expect(ticks).toBeGreaterThan(Math.floor(elapsed / 10 / 4));
    expect(pingTimes.length).toBeGreaterThan(3);
    expect(Math.max(...pingTimes)).toBeLessThan(200);
  });
});
