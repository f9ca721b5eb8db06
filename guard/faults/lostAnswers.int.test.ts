import { describe, expect, it } from 'vitest';
import { describeResult, runScenario, sumMetric } from '../../test/support/faultScenario.js';
import { LossyProxy } from '../../test/support/lossyProxy.js';

/**
 * The write succeeded, the answer was lost: a proxy cuts the client's connection after the guard answered 200 for
 * a share of appends. The client cannot know, retries with the same event ids (possibly through another guard),
 * and must get the first write's versions and position back, never a second copy.
 */
describe('answers lost after a successful write', () => {
  it('answers every retry from the first write and writes nothing twice', async () => {
    const proxies: LossyProxy[] = [];
    try {
      const result = await runScenario({
        guards: 2,
        defaultSeconds: 10,
        clientUrl: async (url) => {
          const proxy = new LossyProxy(url, 0.15);
          await proxy.start();
          proxies.push(proxy);
          return proxy.url;
        },
      });
      const dropped = proxies.reduce((n, p) => n + p.answersDropped, 0);
      const duplicates = sumMetric(result, 'kes_guard_appends_total{outcome="duplicate"}');
      console.log(`${describeResult(result)}; answers dropped ${dropped}, answered from the first write ${duplicates}`);
      expect(result.report.violations).toEqual([]);
      expect(dropped).toBeGreaterThan(20);
      // Every lost answer was followed by a retry answered from the first write (or by a conflict the client
      // could not have avoided when another writer got there in between: then it is not a duplicate).
      expect(result.stats.duplicates).toBeGreaterThan(dropped / 2);
    } finally {
      for (const p of proxies) await p.stop();
    }
  });
});
