import { readCommittedHeaders } from '../../pipeline/kafka/headerReader.js';
import type { ReadRange } from '../../pipeline/kafka/rangeLanes.js';
import type { GuardContext } from '../context.js';
import { APPLY_IDS_MAX, APPLY_IDS_WIDTH, applyIds, applyVersions, type Validated } from '../protocol/redisState.js';
import {
  chunksOf,
  emptyFold,
  foldRecords,
  READ_BACK_HEADERS,
  type ReadBackFold,
  versionPairs,
} from './readBackRecord.js';
import { watermarkAfter } from './readRanges.js';

// Tested by: guard/protocol/scripts.int.test.ts ('apply': what applying does to versions, ids and watermarks),
// guard/recovery/readBack.int.test.ts (the state read back equals the state written), guard/guard.api.int.test.ts
// ('guard state: lost, rebuilt…') and guard/faults/redisLoss.int.test.ts (read back after real data loss). What the
// records tell: readBackRecord; which watermark a range earns: readRanges.

/** Idempotency writes in flight while reading goes on: Redis applies one batch while the next is fetched. */
const WRITES_IN_FLIGHT = 8;
/** Streams per applyVersions call. */
const STREAMS_PER_CALL = 2000;

/**
 * Reads committed events of partition ranges back into Redis (versions, idempotency window, watermark). Only the
 * headers are decoded. Idempotency entries are written as the records arrive, a few thousand per script call;
 * versions are folded in memory and written once per stream when a range has been read to its end, with the
 * range's watermark. Applying is idempotent, so ranges may overlap what Redis already holds. Calls `onEvent` for
 * every event read (recovery looks for reservations' probe ids). Returns the number of events read.
 */
export async function readBack(
  ctx: GuardContext,
  v: Validated,
  ranges: readonly ReadRange[],
  onEvent?: (topic: string, partition: number, eventId: string) => void,
  timeoutMs = 30_000,
): Promise<number> {
  const [seconds, micros] = await ctx.redis.time();
  const cutoffMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - ctx.settings.windowMs;
  const folds = new Map<string, ReadBackFold>();
  const foldOf = (topic: string, partition: number): ReadBackFold => {
    const key = `${topic}\u0000${partition}`;
    let fold = folds.get(key);
    if (!fold) {
      fold = emptyFold();
      folds.set(key, fold);
    }
    return fold;
  };
  const writes = new Writes(WRITES_IN_FLIGHT);
  await readCommittedHeaders(
    ctx.kafka,
    ranges,
    READ_BACK_HEADERS,
    async (records) => {
      const { topic, partition } = records;
      const seen = onEvent && ((id: string) => onEvent(topic, partition, id));
      const entries = foldRecords(foldOf(topic, partition), records, cutoffMs, seen);
      const pk = ctx.keys.partition(topic, partition);
      for (const chunk of chunksOf(entries, APPLY_IDS_WIDTH, APPLY_IDS_MAX)) {
        await writes.add(applyIds(ctx.redis, ctx.keys, pk, v, ctx.settings.window, chunk));
      }
    },
    { timeoutMs },
  );
  await writes.drain();
  // Versions and watermarks only once every range is read to its end, and after the ids they cover.
  let events = 0;
  for (const r of ranges) {
    const fold = foldOf(r.topic, r.partition);
    events += fold.events;
    const pk = ctx.keys.partition(r.topic, r.partition);
    const chunks = chunksOf(versionPairs(fold), 2, STREAMS_PER_CALL);
    const watermark = watermarkAfter(r) ?? -1;
    if (chunks.length === 0) chunks.push([]);
    for (const [i, pairs] of chunks.entries()) {
      await writes.add(applyVersions(ctx.redis, ctx.keys, pk, v, i === chunks.length - 1 ? watermark : -1, pairs));
    }
  }
  await writes.drain();
  return events;
}

/** Script calls in flight, at most `limit`; any 'stale' answer or failure ends the read back. */
class Writes {
  private readonly pending: Promise<unknown>[] = [];
  constructor(private readonly limit: number) {}

  async add(write: Promise<unknown>): Promise<void> {
    // Checked when awaited; meanwhile a rejection must not count as unhandled.
    write.catch(() => {});
    this.pending.push(write);
    while (this.pending.length > this.limit) check(await this.pending.shift());
  }

  async drain(): Promise<void> {
    while (this.pending.length > 0) check(await this.pending.shift());
  }
}

function check(answer: unknown): void {
  if (answer === 'stale') throw new StaleStateError();
}

/** Redis no longer holds the state this guard validated (restart, rollback, failover): a rebuild comes next. */
export class StaleStateError extends Error {
  constructor() {
    super('Redis state is not the validated one (restarted, rolled back or failed over)');
  }
}
