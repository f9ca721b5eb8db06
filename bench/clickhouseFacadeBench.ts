/**
 * `npm run bench:clickhouse`: insert rate into the embedded engine in-process (EmbeddedEngine.insert, chdb raw
 * insert) against the same rows through another process's HTTP facade (ServerEngine -> `kes clickhouse serve`
 * -> chdb raw insert). Rows as STACK.md measured them: 6 columns, about 200 bytes of JSON each, MergeTree.
 * Each engine gets its own temporary data path; one chdb data path per process, so the two run one after the other.
 *
 *   npm run bench:clickhouse -- [--rows 300000] [--batch 50000] [--rounds 3]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { EmbeddedEngine } from '../pipeline/clickhouse/embeddedEngine.js';
import type { ClickHouseEngine } from '../pipeline/clickhouse/engine.js';
import { openEngine } from '../pipeline/clickhouse/openEngine.js';
import { pings, readOwner } from '../pipeline/clickhouse/ownership.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const TABLE = `CREATE TABLE bench.events (
  stream String, version UInt64, event_id String, type String, at DateTime64(3), data String
) ENGINE = MergeTree ORDER BY (stream, version)`;

function batchOf(start: number, size: number): Record<string, unknown>[] {
  return Array.from({ length: size }, (_, k) => {
    const i = start + k;
    return {
      stream: `account-${i % 1000}`,
      version: Math.floor(i / 1000),
      event_id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      type: i % 3 === 0 ? 'MoneyWithdrawn' : 'MoneyDeposited',
      at: '2026-11-26 10:00:00.000',
      data: JSON.stringify({ amount: i, currency: 'EUR', note: 'x'.repeat(60), account: `acc-${i % 1000}` }),
    };
  });
}

async function measure(engine: ClickHouseEngine, rows: number, batch: number): Promise<number> {
  await engine.command('CREATE DATABASE IF NOT EXISTS bench');
  await engine.command('DROP TABLE IF EXISTS bench.events');
  await engine.command(TABLE);
  const started = process.hrtime.bigint();
  for (let at = 0; at < rows; at += batch) await engine.insert('bench.events', batchOf(at, Math.min(batch, rows - at)));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const [count] = await engine.query<{ n: number }>('SELECT count() AS n FROM bench.events');
  if (Number(count?.n) !== rows) throw new Error(`expected ${rows} rows, found ${count?.n}`);
  return rows / seconds;
}

async function main(): Promise<void> {
  const opts = new Command('bench:clickhouse')
    .option('--rows <n>', 'rows per round', '300000')
    .option('--batch <n>', 'rows per insert', '50000')
    .option('--rounds <n>', 'rounds per engine', '3')
    .parse()
    .opts<{ rows: string; batch: string; rounds: string }>();
  const rows = Number(opts.rows);
  const batch = Number(opts.batch);
  const rounds = Number(opts.rounds);
  const results: Record<string, number[]> = {
    'in-process (EmbeddedEngine)': [],
    'over the facade (other process)': [],
  };

  const localDir = mkdtempSync(join(tmpdir(), 'kes-bench-chdb-'));
  const local = await EmbeddedEngine.open(localDir);
  try {
    for (let r = 0; r < rounds; r++) results['in-process (EmbeddedEngine)']?.push(await measure(local, rows, batch));
  } finally {
    await local.close();
    rmSync(localDir, { recursive: true, force: true });
  }

  const remoteDir = mkdtempSync(join(tmpdir(), 'kes-bench-chdb-'));
  const server: ChildProcess = spawn(
    process.execPath,
    [join(ROOT, 'bin', 'kes.js'), 'clickhouse', 'serve', '--path', remoteDir, '--port', '0'],
    { stdio: 'ignore' },
  );
  try {
    for (;;) {
      const owner = readOwner(remoteDir);
      if (owner && (await pings(owner.url))) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const remote = await openEngine({ CLICKHOUSE_URL: undefined, CLICKHOUSE_EMBEDDED_PATH: remoteDir });
    if (remote.kind !== 'embedded-remote') throw new Error(`expected a remote engine, got ${remote.kind}`);
    try {
      for (let r = 0; r < rounds; r++)
        results['over the facade (other process)']?.push(await measure(remote, rows, batch));
    } finally {
      await remote.close();
    }
  } finally {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
    rmSync(remoteDir, { recursive: true, force: true });
  }

  process.stdout.write(`${rows} rows per round in batches of ${batch}, ${rounds} rounds each\n`);
  for (const [name, rates] of Object.entries(results)) {
    const sorted = [...rates].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
    process.stdout.write(
      `${name.padEnd(34)} median ${Math.round(median).toLocaleString('en')} rows/s (${rates.map((r) => Math.round(r).toLocaleString('en')).join(', ')})\n`,
    );
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
