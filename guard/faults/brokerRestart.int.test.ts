import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeResult, faultSeconds, runScenario, sleep, sumMetric } from '../../test/support/faultScenario.js';
import { PrivateKafka } from '../../test/support/privateKafka.js';
import { waitFor } from '../../verify/processes/waitFor.js';

/**
 * The broker goes away under load: once with a clean restart, once killed (kill -9) and restarted over its data.
 * Appends in flight fail before or during their commit; the guards must release or resolve every reservation, and
 * the clients' retries (same ids) must land once. After each fault the guards must write again: the next fault waits
 * for that, and the load runs on for a while after the last one, however long the broker took to come back (on a
 * busy 2-core machine a restart can take most of a fixed load window). The suite runs each fault once;
 * KES_FAULT_SECONDS (scripts/guard-faults.sh --scenario broker --seconds N) repeats the pair for N seconds.
 */
const RESUME_TIMEOUT_MS = 90_000;

interface BrokerFault {
  kind: 'clean restart' | 'kill -9 and restart';
  /** When the broker was back, and how long after that the guards' writes were seen again. */
  backMs: number;
  resumeMs?: number;
}

describe('Kafka broker restarted under load', () => {
  const kafka = new PrivateKafka();
  beforeAll(async () => kafka.start(), 240_000);
  afterAll(async () => kafka.stop());

  it(
    'keeps every invariant across a clean restart and a kill -9 of the broker, and writes again after each',
    async () => {
      const faults: BrokerFault[] = [];
      const result = await runScenario({
        guards: 2,
        kafkaBrokers: kafka.brokers,
        loadUntilChaosEnds: true,
        workload: { timeoutMs: 8_000, maxAttempts: 60, graceMs: 30_000 },
        chaos: async (scenario, signal) => {
          const fault = async (kind: BrokerFault['kind'], run: () => Promise<void>) => {
            await run();
            const seen: BrokerFault = { kind, backMs: Date.now() };
            faults.push(seen);
            const before = scenario.written();
            await waitFor(
              `writes after the broker's ${kind}`,
              () => scenario.written() > before,
              RESUME_TIMEOUT_MS,
              100,
            );
            seen.resumeMs = Date.now() - seen.backMs;
          };
          await waitFor('the first writes', () => scenario.written() > 20, 60_000, 100);
          const until = Date.now() + faultSeconds(0) * 1000;
          do {
            await sleep(1_000, signal);
            await fault('clean restart', () => kafka.restart());
            await sleep(2_000, signal);
            await fault('kill -9 and restart', () => kafka.crashAndRestart());
          } while (Date.now() < until && !signal.aborted);
          // A last stretch of load on the restarted broker.
          await sleep(3_000, signal);
        },
      });
      const resumed = faults.map((f) => `${f.kind}: writes again ${f.resumeMs} ms after the broker was back`);
      console.log(
        `${describeResult(result)}; ${resumed.join(', ')}; producer restarts ${sumMetric(result, 'kes_guard_producer_restarts_total')}`,
      );
      expect(faults.slice(0, 2).map((f) => f.kind)).toEqual(['clean restart', 'kill -9 and restart']);
      expect(faults.every((f) => f.resumeMs !== undefined)).toBe(true);
      expect(result.report.violations).toEqual([]);
      expect(result.report.summary.committedEvents).toBeGreaterThan(0);
    },
    (faultSeconds(0) + 420) * 1000,
  );
});
