import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { uniqueName } from '../../test/support/names.js';
import { waitFor } from '../../test/support/waitFor.js';
import { EmbeddedOwnerError, ServiceUnavailableError } from '../errors.js';
import type { ClickHouseEngine } from './engine.js';
import { openEngine } from './openEngine.js';
import { isProcessAlive, type OwnerRecord, ownerFilePath, ownerLockPath, pings, readOwner } from './ownership.js';

/**
 * Ownership of an embedded data path across real processes: `kes clickhouse serve` and small node processes that
 * call openEngine from the built dist/ (`npm run build` first). Each test has its own temporary data path and
 * lets the kernel pick the facade's port.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(root, 'bin', 'kes.js');
const openEngineJs = join(root, 'dist', 'pipeline', 'clickhouse', 'openEngine.js');

const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kes-owner-'));
  dirs.push(dir);
  return join(dir, 'chdb');
}

interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function track(child: ChildProcess): Proc {
  children.push(child);
  let output = '';
  child.stdout?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

function serve(path: string): Proc {
  return track(
    spawn(process.execPath, [bin, 'clickhouse', 'serve', '--path', path, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

/**
 * A process that opens the engine like any kes command, writes one row naming itself, prints
 * `{"kind","pid"}` and stays (an owner keeps serving) until its stdin closes.
 */
function engineUser(path: string, db: string): Proc {
  const script = `
    import { openEngine } from ${JSON.stringify(openEngineJs)};
    const engine = await openEngine({ CLICKHOUSE_URL: undefined, CLICKHOUSE_EMBEDDED_PATH: ${JSON.stringify(path)},
      KES_CLICKHOUSE_EMBEDDED_PORT: 0 });
    await engine.command('CREATE DATABASE IF NOT EXISTS ${db}');
    await engine.command('CREATE TABLE IF NOT EXISTS ${db}.users (pid UInt32, kind String) ENGINE = MergeTree ORDER BY pid');
    await engine.insert('${db}.users', [{ pid: process.pid, kind: engine.kind }]);
    process.stdout.write(JSON.stringify({ kind: engine.kind, pid: process.pid }) + '\\n');
    process.stdin.resume();
    await new Promise((resolve) => process.stdin.once('end', resolve));
    await engine.close();
  `;
  return track(spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'pipe'] }));
}

async function reported(proc: Proc): Promise<{ kind: string; pid: number }> {
  const line = await waitFor(
    `a process to report its engine:\n${proc.output()}`,
    () =>
      proc
        .output()
        .split('\n')
        .find((l) => l.startsWith('{')),
    30_000,
  );
  return JSON.parse(line) as { kind: string; pid: number };
}

async function ownerOf(path: string): Promise<OwnerRecord> {
  return waitFor(`an owner of ${path}`, async () => {
    const owner = readOwner(path);
    return owner && (await pings(owner.url)) ? owner : undefined;
  });
}

describe('embedded ownership across processes', () => {
  it('several processes racing for a free path end with one owner; the others use it remotely, same data', async () => {
    const path = tempPath();
    const db = uniqueName('kes_race');
    const users = [engineUser(path, db), engineUser(path, db), engineUser(path, db)];
    const reports = await Promise.all(users.map(reported));
    expect(reports.filter((r) => r.kind === 'embedded')).toHaveLength(1);
    expect(reports.filter((r) => r.kind === 'embedded-remote')).toHaveLength(2);
    const owner = reports.find((r) => r.kind === 'embedded');
    expect(readOwner(path)?.pid).toBe(owner?.pid);

    // Everyone wrote to the same data: read it back through a fourth opener, remote as well.
    const reader = await openEngine({ CLICKHOUSE_URL: undefined, CLICKHOUSE_EMBEDDED_PATH: path });
    try {
      expect(reader.kind).toBe('embedded-remote');
      const rows = await reader.query<{ pid: number; kind: string }>(`SELECT pid, kind FROM ${db}.users ORDER BY pid`);
      expect(rows.map((r) => [Number(r.pid), r.kind])).toEqual(
        reports.map((r) => [r.pid, r.kind]).sort((a, b) => Number(a[0]) - Number(b[0])),
      );
    } finally {
      await reader.close();
    }

    // The owner leaves last and cleans up after itself.
    const ownerProc = users.find((u) => u.child.pid === owner?.pid);
    for (const u of users.filter((x) => x !== ownerProc)) u.child.stdin?.end();
    await Promise.all(users.filter((x) => x !== ownerProc).map((u) => u.exited));
    ownerProc?.child.stdin?.end();
    expect(await ownerProc?.exited).toBe(0);
    expect(existsSync(ownerFilePath(path))).toBe(false);
    expect(existsSync(ownerLockPath(path))).toBe(false);
  });

  it('stale lock and owner files of a dead pid are taken over, by exactly one of the racers', async () => {
    const path = tempPath();
    const db = uniqueName('kes_stale');
    // A crashed owner's leftovers: pids are below pid_max (at most 2^22), so this one belongs to nobody.
    const dead = { pid: 99_999_999, token: 'dead', startedAt: new Date().toISOString() };
    const users0 = engineUser(path, db);
    // Let the first one create the directory, then plant the stale files before the others start.
    await reported(users0);
    users0.child.stdin?.end();
    expect(await users0.exited).toBe(0);
    writeFileSync(ownerLockPath(path), JSON.stringify(dead));
    writeFileSync(ownerFilePath(path), JSON.stringify({ ...dead, url: 'http://127.0.0.1:9', path, version: 'x' }));

    const users = [engineUser(path, db), engineUser(path, db)];
    const reports = await Promise.all(users.map(reported));
    expect(reports.map((r) => r.kind).sort()).toEqual(['embedded', 'embedded-remote']);
    expect(readOwner(path)?.pid).toBe(reports.find((r) => r.kind === 'embedded')?.pid);
    for (const u of users) u.child.stdin?.end();
    await Promise.all(users.map((u) => u.exited));
  });

  it('after kill -9 of the owner, openEngine takes the same data over; the old remote engine says the owner is gone', async () => {
    const path = tempPath();
    const db = uniqueName('kes_takeover');
    const server = serve(path);
    const first = await ownerOf(path);
    expect(first.pid).toBe(server.child.pid);
    expect(server.output()).toContain(`served at ${first.url}`);

    const remote = await openEngine({ CLICKHOUSE_URL: undefined, CLICKHOUSE_EMBEDDED_PATH: path });
    let owned: ClickHouseEngine | undefined;
    try {
      expect(remote.kind).toBe('embedded-remote');
      await remote.command(`CREATE DATABASE ${db}`);
      await remote.command(`CREATE TABLE ${db}.kept (n UInt32) ENGINE = MergeTree ORDER BY n`);
      await remote.insert(
        `${db}.kept`,
        Array.from({ length: 1000 }, (_, n) => ({ n })),
      );

      server.child.kill('SIGKILL');
      await server.exited;
      expect(isProcessAlive(first.pid, first.procStart)).toBe(false);

      const lost = await remote.query('SELECT 1').catch((e: unknown) => e);
      expect(lost).toBeInstanceOf(ServiceUnavailableError);
      expect(lost).toMatchObject({ retriable: true });
      expect((lost as Error).message).toContain(`(pid ${first.pid}) is not reachable at ${first.url}`);

      owned = await openEngine({
        CLICKHOUSE_URL: undefined,
        CLICKHOUSE_EMBEDDED_PATH: path,
        KES_CLICKHOUSE_EMBEDDED_PORT: 0,
      });
      expect(owned.kind).toBe('embedded');
      expect(readOwner(path)?.pid).toBe(process.pid);
      const [row] = await owned.query<{ rows: number; total: number }>(
        `SELECT count() AS rows, sum(n) AS total FROM ${db}.kept`,
      );
      expect({ rows: Number(row?.rows), total: Number(row?.total) }).toEqual({ rows: 1000, total: 499_500 });

      // chdb opens one data path per process: a second path fails at once, not after the wait for an owner.
      const other = tempPath();
      const started = Date.now();
      const refused = await openEngine({ CLICKHOUSE_URL: undefined, CLICKHOUSE_EMBEDDED_PATH: other }).catch(
        (e: unknown) => e,
      );
      expect(refused).toBeInstanceOf(EmbeddedOwnerError);
      expect(refused).toMatchObject({ retriable: false, path: other });
      expect((refused as Error).message).toContain('only one active data directory per process');
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await remote.close();
      await owned?.close();
    }
    expect(existsSync(ownerFilePath(path))).toBe(false);
    expect(existsSync(ownerLockPath(path))).toBe(false);
  });

  it('`kes clickhouse serve` keeps its event loop during a long query, refuses a second server, and stops on SIGTERM', async () => {
    const path = tempPath();
    const server = serve(path);
    const owner = await ownerOf(path);

    const second = serve(path);
    expect(await second.exited).toBe(7);
    expect(second.output()).toContain(`${path} is already served by pid ${owner.pid} at ${owner.url}`);

    const remote = await openEngine({ CLICKHOUSE_URL: undefined, CLICKHOUSE_EMBEDDED_PATH: path });
    try {
      const started = Date.now();
      const long = remote.query('SELECT sleepEachRow(0.05) AS z FROM numbers(16)');
      const pings: number[] = [];
      while (Date.now() - started < 500) {
        const t = Date.now();
        expect(await (await fetch(`${owner.url}/ping`)).text()).toBe('Ok.\n');
        pings.push(Date.now() - t);
      }
      expect(await long).toHaveLength(16);
      expect(Date.now() - started).toBeGreaterThanOrEqual(750);
      // A blocked loop would hold every ping until the query's end (~800 ms).
      expect(pings.length).toBeGreaterThan(5);
      expect(Math.max(...pings)).toBeLessThan(250);
    } finally {
      await remote.close();
    }

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.output()).toContain('SIGTERM, stopping');
    expect(existsSync(ownerFilePath(path))).toBe(false);
    expect(existsSync(ownerLockPath(path))).toBe(false);
  });
});
