import type { GuardContext } from '../context.js';
import { type ReserveAppend, reserve, type Validated } from '../protocol/redisState.js';
import type { PartitionGroup } from './groupByPartition.js';

/**
 * One reserve script per partition of a group, all in one pipeline: a group commit costs one Redis round trip
 * whatever the number of partitions. Results come back in the partitions' order; throws when Redis cannot be asked.
 */
export async function sendReserves(
  ctx: Pick<GuardContext, 'redis' | 'keys'>,
  partitions: readonly PartitionGroup<{ append: ReserveAppend }>[],
  reservation: { resId: string; slot: number; ttlMs: number },
  v: Validated,
): Promise<[Error | null, unknown][]> {
  const pipeline = ctx.redis.pipeline();
  for (const pg of partitions) {
    reserve(
      pipeline,
      ctx.keys,
      ctx.keys.partition(pg.topic, pg.partition),
      v,
      reservation,
      pg.items.map((i) => i.append),
    );
  }
  return (await pipeline.exec()) ?? [];
}
