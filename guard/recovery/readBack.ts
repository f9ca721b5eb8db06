import { type ReadRange, readCommitted } from '../../pipeline/kafka/committedReader.js';
import type { GuardContext } from '../context.js';
import { type AppliedEvent, apply, type Validated } from '../protocol/redisState.js';
import { appliedEventOf } from './readBackRecord.js';
import { watermarkAfter } from './readRanges.js';

// Tested by: guard/protocol/scripts.int.test.ts ('apply': what applying does to versions, ids and watermarks),
// guard/guard.api.int.test.ts ('guard state: lost, rebuilt…') and guard/faults/redisLoss.int.test.ts (read back
// after real data loss). What a record means and which watermark a range earns: readBackRecord, readRanges.

const CHUNK = 500;

/**
 * Reads committed events of partition ranges back into Redis (versions, idempotency window, watermark). Applying is
 * idempotent, so ranges may overlap what Redis already holds. Calls `onEvent` for every event read (recovery looks
 * for reservations' probe ids). Each range's watermark is set to `until - 1` once it is fully read.
 */
export async function readBack(
  ctx: GuardContext,
  v: Validated,
  ranges: readonly ReadRange[],
  onEvent: (topic: string, partition: number, eventId: string) => void = () => {},
  timeoutMs = 30_000,
): Promise<number> {
  let applied = 0;
  const windowMs = ctx.settings.windowMs;
  const flush = async (topic: string, partition: number, events: AppliedEvent[], watermark: number) => {
    const result = await apply(
      ctx.redis,
      ctx.keys,
      ctx.keys.partition(topic, partition),
      v,
      {
        windowMs,
        topic,
        partition,
        watermark,
      },
      events,
    );
    if (result === 'stale') throw new StaleStateError();
    applied += events.length;
  };
  await readCommitted(
    ctx.kafka,
    ranges,
    async ({ topic, partition, messages }) => {
      let events: AppliedEvent[] = [];
      for (const m of messages) {
        const event = appliedEventOf(m);
        if (!event) continue;
        onEvent(topic, partition, event.id);
        events.push(event);
        if (events.length >= CHUNK) {
          await flush(topic, partition, events, -1);
          events = [];
        }
      }
      if (events.length > 0) await flush(topic, partition, events, -1);
    },
    { timeoutMs },
  );
  // Watermarks move only once a range is read to its end.
  for (const r of ranges) {
    const watermark = watermarkAfter(r);
    if (watermark !== undefined) await flush(r.topic, r.partition, [], watermark);
  }
  return applied;
}

/** Redis no longer holds the state this guard validated (restart, rollback, failover): a rebuild comes next. */
export class StaleStateError extends Error {
  constructor() {
    super('Redis state is not the validated one (restarted, rolled back or failed over)');
  }
}
