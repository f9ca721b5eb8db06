import { describe, expect, it } from 'vitest';
import { describeResult, runScenario, sleep } from '../../test/support/faultScenario.js';
import { waitFor } from '../../test/support/waitFor.js';

/**
 * Zombies: a guard pauses (SIGSTOP, as a long GC pause or a frozen VM would) in the middle of its append path, one
 * with a transaction open and its events already sent, one with versions reserved but nothing sent. Their leases
 * expire, new guards take their slots (fencing them), the others resolve their reservations; then the zombies wake
 * up and try to finish. Their late writes must never become visible: the checker would see a repeated version
 * or a repeated event id.
 */
describe('zombie guards (SIGSTOP past the lease, SIGCONT after a takeover)', () => {
  it('never lets a paused guard write after another took over its slot', async () => {
    const zombies = [0, 2];
    let fencedZombies = 0;
    let stoppedZombies = 0;
    const result = await runScenario({
      minWritten: 20,
      guards: 5,
      env: { KES_GUARD_SLOTS: '3', KES_GUARD_PIPELINE: '1', KES_GUARD_LEASE_MS: '2000' },
      guardEnv: (i) =>
        i === 0
          ? { KES_FAILPOINTS: 'stop@after-send:0.5x1' }
          : i === 2
            ? { KES_FAILPOINTS: 'stop@after-reserve:0.5x1' }
            : {},
      defaultSeconds: 14,
      startLater: [3, 4],
      chaos: async ({ guards }, signal) => {
        // guards 3 and 4 start only once the zombies are frozen: with 3 slots they can only get the zombies' ones.
        const [spare1, spare2] = [guards[3], guards[4]];
        for (const z of zombies) {
          await waitFor(`guard-${z} to freeze`, () => guards[z]?.tail().includes(': stop'), 20_000);
        }
        await sleep(3_000, signal); // past the 2 s lease and the 2 s reservation deadline
        await Promise.all([spare1?.start(), spare2?.start()]);
        await sleep(1_000, signal);
        for (const z of zombies) guards[z]?.signal('SIGCONT');
        // Woken up, each zombie tries to go on. Whichever it meets first, its epoch taken by the broker (fenced) or
        // its lease taken in Redis (it drops its producer), its transaction never commits.
        const stopped = (z: number) =>
          /"fenced":true|produce failed before commit|commit outcome unknown/.test(guards[z]?.tail(200) ?? '');
        await waitFor('the zombies to fail their transactions', () => zombies.every(stopped), 20_000).catch(() => {});
        stoppedZombies = zombies.filter(stopped).length;
        fencedZombies = zombies.filter((z) => /"fenced":true/.test(guards[z]?.tail(200) ?? '')).length;
      },
    });
    console.log(`${describeResult(result)}; zombies stopped: ${stoppedZombies}, fenced by Kafka: ${fencedZombies}`);
    expect(result.report.violations).toEqual([]);
    expect(stoppedZombies).toBe(2);
    expect(fencedZombies).toBeGreaterThanOrEqual(1);
    // That load ran at all: how much depends on the machine (763 – 2,567 written here in 14 s; 67 once in a CI
    // run whose five guards took most of the 14 s to start), and the zombies are the point, not the throughput.
    expect(result.stats.written).toBeGreaterThanOrEqual(20);
  });
});
