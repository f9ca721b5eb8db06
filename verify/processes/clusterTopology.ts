import type { Admin } from 'kafkajs';

/**
 * Who does what in a Kafka cluster, for fault tests that must kill a particular node: the leaders of a topic's
 * partitions, the coordinator of a transactional id, and whether every replica is back in sync.
 */

export interface PartitionRoles {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

export async function partitionRoles(admin: Admin, topic: string): Promise<PartitionRoles[]> {
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  const found = metadata.topics.find((t) => t.name === topic);
  if (!found) throw new Error(`topic ${topic} not in the cluster's metadata`);
  return found.partitions.map((p) => ({
    partition: p.partitionId,
    leader: p.leader,
    replicas: p.replicas,
    isr: p.isr,
  }));
}

/** The node leading most partitions of the topic (ties: the lowest id). */
export function busiestLeader(roles: readonly PartitionRoles[]): number {
  const counts = new Map<number, number>();
  for (const r of roles) counts.set(r.leader, (counts.get(r.leader) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0] ?? -1;
}

/** Java's String.hashCode, which Kafka hashes a transactional id with (UTF-16 code units, 32-bit wrap-around). */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * The partition of `__transaction_state` that holds a transactional id's state; its leader is the id's
 * transaction coordinator (Kafka's TransactionStateManager.partitionFor: Utils.abs(hashCode) % partitions, where
 * Utils.abs maps Integer.MIN_VALUE to 0).
 */
export function transactionStatePartition(transactionalId: string, partitions: number): number {
  const h = javaStringHash(transactionalId);
  return (h === -2147483648 ? 0 : Math.abs(h)) % partitions;
}

/** The coordinators of these transactional ids, by node: node id → how many of the ids it coordinates. */
export async function transactionCoordinators(
  admin: Admin,
  transactionalIds: readonly string[],
): Promise<Map<number, number>> {
  const roles = await partitionRoles(admin, '__transaction_state');
  const counts = new Map<number, number>();
  for (const id of transactionalIds) {
    const partition = transactionStatePartition(id, roles.length);
    const leader = roles.find((r) => r.partition === partition)?.leader;
    if (leader === undefined) throw new Error(`__transaction_state partition ${partition} has no leader`);
    counts.set(leader, (counts.get(leader) ?? 0) + 1);
  }
  return counts;
}

/** True when every partition of these topics has a live leader and all its replicas in sync. */
export async function fullyInSync(admin: Admin, topics: readonly string[]): Promise<boolean> {
  for (const topic of topics) {
    for (const r of await partitionRoles(admin, topic)) {
      if (r.leader < 0 || r.isr.length < r.replicas.length) return false;
    }
  }
  return true;
}
