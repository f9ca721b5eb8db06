import type { ReadRange } from '../../pipeline/kafka/rangeLanes.js';
import type { GuardContext } from '../context.js';
import { fence, transactionalIdOf } from '../protocol/fencing.js';
import { currentGeneration, hasGenerationRecord, serverRunId, writeGeneration } from '../protocol/generation.js';
import { forgetWindow, reservations, resolve, type Validated } from '../protocol/redisState.js';
import { ProbeWatch } from './probeWatch.js';
import { readBack, StaleStateError } from './readBack.js';
import { rebuildRange } from './readRanges.js';

// Tested by: guard/faults/redisLoss.int.test.ts (restart with AOF, rollback to an older snapshot carrying the same
// generation record, restart empty, under load) and guard/guard.api.int.test.ts ('guard state: lost, rebuilt, and
// not ready meanwhile'); the rebuild lease's generation in guard/protocol/scripts.int.test.ts ('stale state'). The
// decisions: where each partition is read from (readRanges), roll forward or back (probeWatch), whether the state is
// valid (protocol/generationRecord), all unit-tested.

/**
 * Rebuilds the guard's Redis state from Kafka when it cannot be trusted: Redis restarted (its run id changed),
 * lost its data, was rolled back to an older AOF or RDB, or failed over. While this runs every guard answers 503.
 *
 * 1. Take the rebuild lease (one guard rebuilds; the others wait for the new generation).
 * 2. Fence every slot of the pool: no transaction that was open can commit any more, so what Kafka holds after
 *    this is final for every reservation Redis may remember or may have forgotten.
 * 3. Per partition, read from where Redis state can be trusted: from the start when no generation record exists
 *    (data lost), else from the lowest of its watermark and the watermarks of its open reservations. A restored
 *    older state is a prefix of the history, and in any prefix every committed event above those marks is either
 *    applied or belongs to one of those reservations (docs/guard.md gives the argument).
 * 4. Apply everything read, settle every open reservation by whether its probe event was read, and write a new
 *    generation record bound to the running server's run id.
 */
export async function rebuildState(ctx: GuardContext): Promise<Validated | undefined> {
  const { redis, keys } = ctx;
  const holder = `${ctx.instanceId}`;
  const taken = await redis.set(keys.rebuild, holder, 'PX', 30_000, 'NX');
  if (taken !== 'OK') return undefined;
  const renew = setInterval(() => {
    void redis.eval(RENEW_IF_HOLDER, 1, keys.rebuild, holder, 30_000).catch(() => {});
  }, 5_000);
  const started = Date.now();
  try {
    // Another guard may have finished a rebuild between our check and taking the lease.
    const done = await currentGeneration(redis, keys);
    if (done) return done;
    const runId = await serverRunId(redis);
    const v: Validated = { gen: `rebuild:${holder}`, runId };
    const fresh = !(await hasGenerationRecord(redis, keys));
    ctx.log.warn('rebuilding guard state from Kafka', { fresh, runId });

    const fenceStarted = Date.now();
    const slots = Array.from({ length: ctx.settings.slots }, (_, slot) => slot);
    for (let i = 0; i < slots.length; i += 4) {
      await Promise.all(
        slots.slice(i, i + 4).map((slot) => fence(ctx.kafka, transactionalIdOf(ctx.settings.namespace, slot))),
      );
    }

    const fenceMs = Date.now() - fenceStarted;
    const topics = await ctx.topics.all();
    const ranges: ReadRange[] = [];
    const open: { topic: string; partition: number; resId: string; probeId: string }[] = [];
    for (const { topic, partitions } of topics) {
      const high = await ctx.watermarks.of(topic);
      for (let partition = 0; partition < partitions; partition++) {
        const pk = keys.partition(topic, partition);
        if (fresh) {
          // Whatever is left without a generation record is not known to be a prefix of anything: start over.
          await redis.del(pk.ver, pk.lock, pk.res, pk.wm, pk.seen);
          await forgetWindow(redis, pk);
          ranges.push(rebuildRange(topic, partition, high.get(partition)));
        } else {
          const pending = await reservations(redis, pk);
          const watermark = await redis.get(pk.wm);
          for (const r of pending) open.push({ topic, partition, resId: r.resId, probeId: r.probeId });
          ranges.push(rebuildRange(topic, partition, high.get(partition), { watermark, pending }));
        }
      }
    }

    const probes = new ProbeWatch(open.map((o) => o.probeId));
    const readStarted = Date.now();
    // Probes are looked for only when reservations are open (never after data loss, where none are remembered).
    const onEvent = open.length > 0 ? (_t: string, _p: number, id: string) => probes.seen(id) : undefined;
    const applied = await readBack(ctx, v, ranges, onEvent, 60 * 60_000);
    const readMs = Date.now() - readStarted;
    for (const o of open) {
      const result = await resolve(
        redis,
        keys,
        keys.partition(o.topic, o.partition),
        v,
        o.resId,
        probes.found(o.probeId),
      );
      if (result === 'stale') throw new StaleStateError();
    }
    if ((await redis.get(keys.rebuild)) !== holder || (await serverRunId(redis)) !== runId) throw new StaleStateError();
    const validated = await writeGeneration(redis, keys, runId);
    ctx.metrics.recoveries.inc({ kind: 'rebuild' });
    ctx.log.warn('guard state rebuilt', {
      partitions: ranges.length,
      eventsApplied: applied,
      reservationsSettled: open.length,
      ms: Date.now() - started,
      fenceMs,
      readMs,
    });
    return validated;
  } finally {
    clearInterval(renew);
    await redis.eval(RELEASE_IF_HOLDER, 1, keys.rebuild, holder).catch(() => {});
  }
}

const RENEW_IF_HOLDER = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
const RELEASE_IF_HOLDER = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
