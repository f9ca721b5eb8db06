import { describe, expect, it } from 'vitest';
import { describeResult, keepRestarting, runScenario, sleep } from '../../test/support/faultScenario.js';

/**
 * Guards die at every point of the append path (reserved but not written; written but not committed; committed but
 * not recorded in Redis; recorded but not answered), over and over, under load, with three guards on the same
 * streams; and are also killed from outside at random moments. The checker must find nothing.
 */
describe('guard crashes (kill -9) under load', () => {
  it('keeps every invariant when guards die at random points of the append path', async () => {
    let externalKills = 0;
    const result = await runScenario({
      minWritten: 100,
      guards: 3,
      env: { KES_FAILPOINTS: 'after-reserve:0.004,after-send:0.004,after-commit:0.004,after-confirm:0.004' },
      chaos: async ({ guards }, signal) => {
        const restarts = keepRestarting(guards, signal);
        while (!signal.aborted) {
          await sleep(1500 + Math.random() * 1500, signal);
          const victim = guards[Math.floor(Math.random() * guards.length)];
          if (victim?.running && !signal.aborted) {
            await victim.kill();
            externalKills += 1;
          }
        }
        await restarts;
      },
    });
    const failpointKills = result.scenario.guards.reduce(
      (n, g) => n + g.exits.filter((e) => e === 'SIGKILL').length,
      0,
    );
    console.log(`${describeResult(result)}; kills: ${failpointKills} (external ${externalKills})`);
    expect(result.report.violations).toEqual([]);
    expect(failpointKills).toBeGreaterThanOrEqual(3);
    expect(result.stats.written).toBeGreaterThanOrEqual(100);
  });
});
