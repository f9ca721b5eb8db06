import { type Admin, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicOf } from '../../pipeline/events/streamName.js';
import { createKafka } from '../../pipeline/kafka/kafkaClient.js';
import {
  type ClusterFault,
  clusterFaultKinds,
  describeStall,
  faultStalls,
  runClusterFaults,
} from '../../test/support/clusterFaults.js';
import { describeResult, runScenario } from '../../test/support/faultScenario.js';
import { uniqueName } from '../../test/support/names.js';
import type { WorkloadStats } from '../../verify/load/workload.js';
import { partitionRoles } from '../../verify/processes/clusterTopology.js';
import { PrivateKafkaCluster } from '../../verify/processes/privateKafkaCluster.js';

/**
 * Issue 16: the guards write to a three-node Kafka (replication 3, min.insync.replicas 2) of this test's own while
 * nodes die under them: the leader of most written partitions, the coordinator of their transactions (each killed
 * with kill -9 and brought back over its data), then a follower, killed for the rest of the load. The history checker must find nothing, every append
 * answered as written must be in Kafka, and the seconds without a successful append are printed per fault.
 * KES_CLUSTER_ROUNDS (scripts/cluster-faults.sh --rounds N) repeats the three faults.
 */
const rounds = Math.max(1, Number(process.env.KES_CLUSTER_ROUNDS) || 1);
const SLOTS = 4;

describe('Kafka cluster: nodes killed under guarded load', () => {
  const cluster = new PrivateKafkaCluster(3);
  let admin: Admin;
  beforeAll(async () => {
    await cluster.start();
    const kafka = createKafka({ KAFKA_BROKERS: cluster.brokers }, uniqueName('topology'), {
      logLevel: logLevel.NOTHING,
    });
    admin = kafka.admin();
    await admin.connect();
  }, 240_000);
  afterAll(async () => {
    await admin?.disconnect().catch(() => undefined);
    await cluster.stop();
  });

  it(
    'keeps every invariant when the partition leader, the transaction coordinator and a follower are killed',
    async () => {
      const faults: ClusterFault[] = [];
      let topic = '';
      let loadEndMs = 0;
      let latest: WorkloadStats | undefined;
      const result = await runScenario({
        guards: 2,
        kafkaBrokers: cluster.brokers,
        // Replication 3 is what stack.env says for this cluster; the scenario's guards get it explicitly.
        env: { KES_TOPIC_REPLICATION: '3', KES_GUARD_SLOTS: String(SLOTS) },
        // Load runs until the faults are over (plus a little): a kill can stall writers for seconds.
        loadUntilChaosEnds: true,
        workload: {
          timeoutMs: 8_000,
          maxAttempts: 60,
          graceMs: 30_000,
          onProgress: (stats) => {
            latest = stats;
          },
        },
        chaos: async (scenario, signal) => {
          topic = topicOf(scenario.topicPrefix, 'account');
          try {
            await runClusterFaults(
              {
                cluster,
                admin,
                topic,
                namespace: scenario.env.KES_REDIS_PREFIX ?? '',
                slots: SLOTS,
                rounds,
                progress: () => latest,
                faults,
              },
              signal,
            );
            // A last stretch of load on the two nodes left.
            await new Promise((resolve) => setTimeout(resolve, 3_000));
          } finally {
            loadEndMs = Date.now();
          }
        },
      });
      const stalls = faultStalls(result.historyPath, faults, loadEndMs);
      console.log(`${describeResult(result)}; node restarts ${cluster.restarts}`);
      for (const s of stalls) console.log(`  ${describeStall(s)}`);

      // The guard created the topic with the cluster's replication, so each acknowledged write is on two nodes.
      const roles = await partitionRoles(admin, topic);
      expect(roles.map((r) => r.replicas.length)).toEqual(roles.map(() => 3));
      expect(faults.map((f) => f.kind)).toEqual(Array.from({ length: rounds }, () => clusterFaultKinds).flat());
      expect(faults.every((f) => f.resumedMs !== undefined)).toBe(true);
      expect(faults.slice(0, -1).every((f) => f.inSyncMs !== undefined)).toBe(true);
      expect(result.report.violations).toEqual([]);
      expect(result.report.summary.committedEvents).toBeGreaterThan(0);
      expect(result.stats.written).toBeGreaterThan(100);
    },
    (150 + 150 * rounds) * 1000,
  );
});
