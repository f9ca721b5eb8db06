/** The appends of one partition in a group commit: they share one reserve script, one confirm and one offset run. */
export interface PartitionGroup<T> {
  topic: string;
  partition: number;
  items: T[];
}

/**
 * Splits a group commit by partition. Partitions come in the order they first appear and each keeps its appends in
 * queue order: the reserve script hands out versions in that order, and the messages follow it.
 */
export function groupByPartition<T extends { append: { topic: string; partition: number } }>(
  group: readonly T[],
): PartitionGroup<T>[] {
  const map = new Map<string, PartitionGroup<T>>();
  for (const item of group) {
    const key = `${item.append.topic}:${item.append.partition}`;
    let pg = map.get(key);
    if (!pg) {
      pg = { topic: item.append.topic, partition: item.append.partition, items: [] };
      map.set(key, pg);
    }
    pg.items.push(item);
  }
  return [...map.values()];
}
