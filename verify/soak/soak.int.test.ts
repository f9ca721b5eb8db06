import { afterAll, describe, expect, it } from 'vitest';
import { stack } from '../../test/support/stack.js';
import { FAULT_KINDS } from './faultSchedule.js';
import { runSoak } from './runSoak.js';
import type { SoakServices } from './soakServices.js';
import { renderSoakSummary } from './soakSummary.js';

/**
 * The soak's short version: two guards, clients with retries and two projectors on a private broker, Redis and
 * ClickHouse process, a fault every half second on average until every kind in the schedule has happened at least
 * once and a few thousand appends were acknowledged; then the history checker and the read-model check.
 * `npm run faults:soak -- --appends N` is the long version (docs/guard.md, "Soak").
 */
describe('soak, short', () => {
  // The soak stops its services itself; this is for a run cut short by the timeout (stopping twice is harmless).
  let services: SoakServices | undefined;
  afterAll(async () => services?.stop());

  it('meets every kind of fault and finds no violation', async () => {
    const lines: string[] = [];
    const { summary } = await runSoak({
      appends: 3_000,
      seed: Number(process.env.KES_SOAK_SEED ?? 12),
      kinds: FAULT_KINDS,
      guards: 2,
      clients: 8,
      projectors: 2,
      streams: 200,
      faultGapMs: 500,
      everyFault: true,
      schemaRegistryUrl: stack().schemaRegistryUrl,
      catchUpMs: 120_000,
      progressEverySeconds: 10,
      onServices: (s) => {
        services = s;
      },
      log: (line) => {
        lines.push(line);
        if (process.env.KES_SOAK_VERBOSE) process.stderr.write(`${line}\n`);
      },
    });
    const text = renderSoakSummary(summary);
    console.log(text);
    const failures = `${text}\n--- log ---\n${lines.slice(-60).join('\n')}`;
    expect(summary.checkError, failures).toBeUndefined();
    expect(summary.violations, failures).toBe(0);
    expect(summary.missingKinds, failures).toEqual([]);
    expect(summary.appendsAcknowledged).toBeGreaterThanOrEqual(3_000);
    expect(summary.committedEvents).toBeGreaterThan(3_000);
    // The wipe and the first guard's start each rebuild the state at least once.
    expect(summary.rebuilds.count).toBeGreaterThanOrEqual(2);
  }, 900_000);
});
