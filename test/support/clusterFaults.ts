import type { Admin } from 'kafkajs';
import { transactionalIdOf } from '../../guard/protocol/fencing.js';
import { readHistory } from '../../verify/history/history.js';
import { measureStall } from '../../verify/load/stall.js';
import type { WorkloadStats } from '../../verify/load/workload.js';
import {
  busiestLeader,
  fullyInSync,
  partitionRoles,
  transactionCoordinators,
} from '../../verify/processes/clusterTopology.js';
import type { PrivateKafkaCluster } from '../../verify/processes/privateKafkaCluster.js';
import { waitFor } from '../../verify/processes/waitFor.js';
import { sleep } from './faultScenario.js';

/**
 * The Kafka faults of issue 16 on a three-node cluster, in order, under the guards' load: kill -9 the node leading
 * most partitions of the written topic; bring it back; kill -9 the coordinator of the guards' transactional ids;
 * bring it back; kill -9 a follower (a node leading nothing written and coordinating none of the ids), brought back
 * only when another round follows. Each node comes back over its data and the next fault waits until every replica is in sync again, so that no
 * fault takes the cluster below min.insync.replicas.
 */

export type ClusterFaultKind = 'partition-leader' | 'transaction-coordinator' | 'follower';
export const clusterFaultKinds: readonly ClusterFaultKind[] = [
  'partition-leader',
  'transaction-coordinator',
  'follower',
];

export interface ClusterFault {
  kind: ClusterFaultKind;
  node: number;
  /** When the node was killed, when writes were seen again, when the node was back and when all was in sync. */
  killedMs: number;
  resumedMs?: number;
  backMs?: number;
  inSyncMs?: number;
}

export interface ClusterChaos {
  cluster: PrivateKafkaCluster;
  admin: Admin;
  topic: string;
  /** The guards' namespace (KES_REDIS_PREFIX) and slot count: the transactional ids they write under. */
  namespace: string;
  slots: number;
  rounds: number;
  /** Latest workload figures (onProgress, once a second): writes resuming are seen here. */
  progress: () => WorkloadStats | undefined;
  faults: ClusterFault[];
}

const RESUME_TIMEOUT_MS = 90_000;
const IN_SYNC_TIMEOUT_MS = 120_000;

export async function runClusterFaults(chaos: ClusterChaos, signal: AbortSignal): Promise<void> {
  await waitFor('the topic to be written', async () => (chaos.progress()?.written ?? 0) > 20, 60_000, 100);
  for (let round = 0; round < chaos.rounds && !signal.aborted; round++) {
    for (const kind of clusterFaultKinds) {
      if (signal.aborted) return;
      const node = await victim(chaos, kind);
      // The last follower stays down: the load ends on two nodes, which is what min.insync.replicas=2 promises.
      const last = round === chaos.rounds - 1 && kind === 'follower';
      await inject(chaos, kind, node, !last);
      await sleep(1_000);
    }
  }
}

async function victim(chaos: ClusterChaos, kind: ClusterFaultKind): Promise<number> {
  const roles = await partitionRoles(chaos.admin, chaos.topic);
  const ids = Array.from({ length: chaos.slots }, (_, slot) => transactionalIdOf(chaos.namespace, slot));
  const coordinators = await transactionCoordinators(chaos.admin, ids);
  if (kind === 'partition-leader') return busiestLeader(roles);
  if (kind === 'transaction-coordinator') {
    return [...coordinators].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0] ?? -1;
  }
  // A follower: leads no partition written and coordinates no guard's id; failing that, the one with least to do.
  const load = (node: number) => roles.filter((r) => r.leader === node).length * 10 + (coordinators.get(node) ?? 0);
  return (
    Array.from({ length: chaos.cluster.nodes }, (_, i) => i + 1).sort((a, b) => load(a) - load(b) || a - b)[0] ?? 1
  );
}

async function inject(chaos: ClusterChaos, kind: ClusterFaultKind, node: number, bringBack: boolean): Promise<void> {
  const writtenBefore = chaos.progress()?.written ?? 0;
  const fault: ClusterFault = { kind, node, killedMs: Date.now() };
  chaos.faults.push(fault);
  await chaos.cluster.kill(node);
  // Writes go on on the two nodes left (min.insync.replicas=2): wait until the clients are answered again. The
  // progress figures are a second old at most, so look for two reports past the kill with more written.
  let seenAfter: number | undefined;
  await waitFor(
    `writes after killing node ${node} (${kind})`,
    () => {
      const now = chaos.progress();
      if (!now || now.written <= writtenBefore) return false;
      seenAfter ??= now.written;
      return now.written > seenAfter;
    },
    RESUME_TIMEOUT_MS,
    100,
  );
  fault.resumedMs = Date.now();
  if (!bringBack) return;
  await chaos.cluster.bringBack();
  fault.backMs = Date.now();
  await waitFor(
    `every replica in sync after node ${node} came back`,
    () => fullyInSync(chaos.admin, [chaos.topic, '__transaction_state']),
    IN_SYNC_TIMEOUT_MS,
    250,
  );
  fault.inSyncMs = Date.now();
}

export interface FaultStall {
  kind: ClusterFaultKind;
  node: number;
  /** Seconds without a successful append (100 ms windows) from the kill until the node was back, and after. */
  downStallS: number;
  longestGapDownMs: number;
  backStallS: number;
  longestGapBackMs: number;
  downS: number;
  /** Kill to writes seen again, kill to node back, back to every replica in sync. */
  resumeS: number;
  restartS: number;
  syncS: number;
  broughtBack: boolean;
}

/** Stall around each fault, from the times clients were answered ok (the history file). */
export function faultStalls(historyPath: string, faults: readonly ClusterFault[], loadEndMs: number): FaultStall[] {
  const okTimes = readHistory(historyPath)
    .filter((a) => a.outcome.status === 'ok')
    .map((a) => a.endMs);
  return faults.map((f, i) => {
    const back = f.backMs ?? loadEndMs;
    const next = faults[i + 1]?.killedMs ?? loadEndMs;
    const down = measureStall(okTimes, f.killedMs, back);
    const after = measureStall(okTimes, back, Math.max(back, next));
    return {
      kind: f.kind,
      node: f.node,
      downStallS: down.emptyMs / 1000,
      longestGapDownMs: down.longestGapMs,
      backStallS: after.emptyMs / 1000,
      longestGapBackMs: after.longestGapMs,
      downS: (back - f.killedMs) / 1000,
      resumeS: ((f.resumedMs ?? back) - f.killedMs) / 1000,
      restartS: (back - (f.resumedMs ?? f.killedMs)) / 1000,
      syncS: ((f.inSyncMs ?? back) - back) / 1000,
      broughtBack: f.backMs !== undefined,
    };
  });
}

export function describeStall(s: FaultStall): string {
  const head = `${s.kind} (node ${s.node}): writes seen again ${s.resumeS.toFixed(1)} s after the kill`;
  const down = `stall ${s.downStallS.toFixed(1)} s, longest gap ${s.longestGapDownMs} ms`;
  if (!s.broughtBack) return `${head}; left down to the end (${s.downS.toFixed(1)} s): ${down}`;
  return (
    `${head}; back after ${s.downS.toFixed(1)} s (restart ${s.restartS.toFixed(1)} s, in sync ${s.syncS.toFixed(1)} s later); ` +
    `while down: ${down}; after: stall ${s.backStallS.toFixed(1)} s, longest gap ${s.longestGapBackMs} ms`
  );
}
