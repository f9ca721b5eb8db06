import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../test/support/freePort.js';
import { testGuardConfig } from '../../test/support/guard.js';
import { uniqueName } from '../../test/support/names.js';
import { projectorEnv, testProjectorSettings } from '../../test/support/projector.js';
import { runKes } from '../../test/support/runKes.js';

/**
 * `kes demo` end to end, at a small size, as its own process on the real stack (isolated: its own topics, Redis keys,
 * database, groups and ports): every transfer finishes, `kes check` finds nothing, the ledger check holds the log to
 * what the clients were told, and the money check in ClickHouse balances.
 */
describe('kes demo', () => {
  it('runs the bank workload through guard, projector and process manager, and every check passes', async () => {
    const setup = testGuardConfig();
    const projector = testProjectorSettings(setup.config);
    const env = {
      ...projectorEnv(projector),
      REDIS_URL: setup.config.REDIS_URL,
      KES_REDIS_PREFIX: `${setup.namespace}:`,
      KES_TOPIC_PARTITIONS: '4',
      KES_SCHEMAS_DIR: join(process.cwd(), 'schemas'),
      KES_HOME: mkdtempSync(join(tmpdir(), 'kes-demo-')),
      KES_TRANSFERS_GROUP: uniqueName('transfers'),
      KES_GUARD_PORT: String(await freePort()),
      KES_PROJECTOR_PORT: String(await freePort()),
      KES_TRANSFERS_PORT: String(await freePort()),
    };
    const run = await runKes(
      ['demo', '--no-stack', '--duration', '6', '--accounts', '30', '--concurrency', '6', '--format', 'json'],
      { env, timeoutMs: 240_000 },
    );
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as {
      ok: boolean;
      workload: { commands: number; ok: number; conflictsSpent: number; errors: number; transfersRequested: number };
      transfers: Record<string, number>;
      check: { violations: number; committedEvents: number; loggedAppends: number };
      ledger: { violations: string[]; currencies: { currency: string; externalIn: number; externalOut: number }[] };
      acknowledged: Record<string, { externalIn: number; externalOut: number }>;
      reports: Record<string, Record<string, unknown>[]>;
    };
    expect(result.ok).toBe(true);
    expect(result.workload.commands).toBeGreaterThan(100);
    expect(result.workload.errors).toBe(0);
    expect(result.workload.transfersRequested).toBeGreaterThan(10);
    expect(result.transfers.unfinished).toBeUndefined();
    expect((result.transfers.completed ?? 0) + (result.transfers.failed ?? 0)).toBe(result.workload.transfersRequested);
    expect(result.check).toMatchObject({ violations: 0 });
    expect(result.check.loggedAppends).toBeGreaterThan(0);
    expect(result.ledger.violations).toEqual([]);
    // The log holds exactly the money the clients were told of, and ClickHouse agrees with the log.
    for (const totals of result.ledger.currencies) {
      expect(result.acknowledged[totals.currency]).toEqual({
        externalIn: totals.externalIn,
        externalOut: totals.externalOut,
      });
      const check = result.reports['money-check']?.find((row) => row.currency === totals.currency);
      expect(check).toMatchObject({
        external_in: totals.externalIn,
        external_out: totals.externalOut,
        conservation: 0,
        ok: 'yes',
      });
    }
    expect(run.stderr).toContain('demo ▕');
  }, 300_000);
});
