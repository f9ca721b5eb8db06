import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeResult, runScenario, sleep, sumMetric } from '../../test/support/faultScenario.js';
import { PrivateKafka } from '../../test/support/privateKafka.js';

/**
 * The broker goes away under load: once with a clean restart, once killed (kill -9) and restarted over its data.
 * Appends in flight fail before or during their commit; the guards must release or resolve every reservation, and
 * the clients' retries (same ids) must land once.
 */
describe('Kafka broker restarted under load', () => {
  const kafka = new PrivateKafka();
  beforeAll(async () => kafka.start(), 240_000);
  afterAll(async () => kafka.stop());

  it('keeps every invariant across a clean restart and a kill -9 of the broker', async () => {
    const faults: string[] = [];
    const result = await runScenario({
      guards: 2,
      kafkaBrokers: kafka.brokers,
      defaultSeconds: 20,
      workload: { timeoutMs: 8_000, maxAttempts: 60, graceMs: 30_000 },
      chaos: async (_scenario, signal) => {
        await sleep(3_000, signal);
        await kafka.restart();
        faults.push('clean restart');
        await sleep(4_000, signal);
        await kafka.crashAndRestart();
        faults.push('kill -9 and restart');
      },
    });
    console.log(
      `${describeResult(result)}; faults: ${faults.join(', ')}; producer restarts ${sumMetric(result, 'kes_guard_producer_restarts_total')}`,
    );
    expect(faults).toHaveLength(2);
    expect(result.report.violations).toEqual([]);
    expect(result.stats.written).toBeGreaterThan(100);
  });
});
