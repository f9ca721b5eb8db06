import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, startTestGuard, testGuardConfig } from '../../test/support/guard.js';
import type { RunningGuard } from '../guard.js';

/**
 * `kes/client` is usable alone: kes packed as users get it (`npm pack`), unpacked as the only package of a bare
 * project — no chdb, kafkajs, fastify, ioredis, nor any other dependency installed, so importing any of them
 * fails — and its GuardClient and CommandClient used against a real guard. Needs `npm run build` first (the
 * package ships dist/).
 */
const ROOT = resolve(import.meta.dirname, '..', '..');

describe('kes/client in a bare project', () => {
  const setup = testGuardConfig();
  let guard: RunningGuard;
  let dir: string;

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist', 'client.js'))) throw new Error('dist/client.js is missing: run npm run build');
    guard = await startTestGuard(setup);
    dir = mkdtempSync(join(tmpdir(), 'kes-client-'));
    execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], { cwd: ROOT });
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    expect(tarball).toBeDefined();
    mkdirSync(join(dir, 'node_modules'));
    execFileSync('tar', ['-xzf', join(dir, tarball as string), '-C', join(dir, 'node_modules')]);
    renameSync(join(dir, 'node_modules', 'package'), join(dir, 'node_modules', 'kes'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'bare', type: 'module', private: true }));
  }, 180_000);
  afterAll(async () => {
    await guard?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('imports with no dependency installed, appends, reads the version, and maps a refusal to its typed error', async () => {
    const stream = `account-${randomUUID()}`;
    writeFileSync(
      join(dir, 'use.mjs'),
      `import { GuardClient, WrongExpectedVersionError } from 'kes/client';
const client = new GuardClient({ url: process.argv[2], apiKey: process.argv[3] });
const stream = process.argv[4];
const written = await client.appendToStream(
  stream,
  [{ type: 'MoneyDeposited', data: { amount: 5, currency: 'EUR', transferId: null } }],
  { expectedVersion: 'no_stream' },
);
const version = await client.streamVersion(stream);
let refused;
try {
  await client.appendToStream(
    stream,
    [{ type: 'MoneyDeposited', data: { amount: 1, currency: 'EUR', transferId: null } }],
    { expectedVersion: 'no_stream' },
  );
} catch (error) {
  refused = { wrongVersion: error instanceof WrongExpectedVersionError, actual: error.actual };
}
console.log(JSON.stringify({ written, version, refused }));
`,
    );
    // Asynchronously: the guard answers from this process's event loop.
    const { stdout: out } = await promisify(execFile)(process.execPath, ['use.mjs', guard.url, API_KEY, stream], {
      cwd: dir,
      encoding: 'utf8',
    });
    const result = JSON.parse(out.trim()) as {
      written: { stream: string; firstVersion: number; lastVersion: number };
      version: number;
      refused: { wrongVersion: boolean; actual: number };
    };
    expect(result.written).toMatchObject({ stream, firstVersion: 0, lastVersion: 0 });
    expect(result.version).toBe(0);
    expect(result.refused).toEqual({ wrongVersion: true, actual: 0 });
    // Nothing but kes in the bare project: any import of a dependency would have failed above.
    expect(readdirSync(join(dir, 'node_modules'))).toEqual(['kes']);
  });
});
