import type { GuardContext } from '../context.js';
import { fence, transactionalIdOf } from '../protocol/fencing.js';
import { parseReservation, resolve, type Validated } from '../protocol/redisState.js';
import { type DueReservation, dueReservations, slotsToFence } from './dueReservations.js';
import { ProbeWatch } from './probeWatch.js';
import { readBack, StaleStateError } from './readBack.js';
import { resolveRange } from './readRanges.js';

// Tested by: guard/faults/crash.int.test.ts (guards killed between reserve, send, commit and confirm: their
// reservations expire and are resolved), guard/faults/zombie.int.test.ts (paused owners fenced, then resolved),
// guard/faults/brokerRestart.int.test.ts (a writer resolving its own commit of unknown outcome); the resolve script's
// forward/back/gone in guard/protocol/scripts.int.test.ts ('resolve'). The decisions: which reservations are due and
// which slots to fence (dueReservations), where to read (readRanges), roll forward or back (probeWatch).

export type Resolution = 'forward' | 'back' | 'gone';

/**
 * Settles a reservation whose owner will not (or may not) confirm it: a guard that crashed, paused past the
 * deadline, or lost the answer of its own commit.
 *
 * 1. Fence the owner's slot (skipped when the caller has just re-initialised that slot itself): after this no
 *    transaction of the owner can commit, and any it had open is finished.
 * 2. Take the partition's high watermark, then read it with read_committed from the reservation's watermark (its
 *    events can only lie above it) to that mark, applying what is found.
 * 3. The probe (first event id of the reservation) found: the events are in Kafka, keep the versions. Not found:
 *    they never will be, restore the versions.
 */
export class Resolver {
  private readonly running = new Map<string, Promise<Resolution>>();

  constructor(
    private readonly ctx: GuardContext,
    private readonly validated: () => Validated | undefined,
  ) {}

  resolve(topic: string, partition: number, resId: string, options: { fence: boolean }): Promise<Resolution> {
    let job = this.running.get(resId);
    if (!job) {
      job = this.run(topic, partition, resId, options).finally(() => this.running.delete(resId));
      this.running.set(resId, job);
    }
    return job;
  }

  private async run(topic: string, partition: number, resId: string, options: { fence: boolean }): Promise<Resolution> {
    const { ctx } = this;
    const v = this.validated();
    if (!v) throw new StaleStateError();
    const pk = ctx.keys.partition(topic, partition);
    const text = await ctx.redis.hget(pk.res, resId);
    if (!text) return 'gone';
    const reservation = parseReservation(resId, text);
    if (options.fence) await fence(ctx.kafka, transactionalIdOf(ctx.settings.namespace, reservation.slot));
    const high = (await ctx.watermarks.of(topic)).get(partition);
    const probe = new ProbeWatch([reservation.probeId]);
    await readBack(ctx, v, [resolveRange(topic, partition, reservation, high)], (_t, _p, id) => probe.seen(id));
    const result = await resolve(ctx.redis, ctx.keys, pk, v, resId, probe.found(reservation.probeId));
    if (result === 'stale') throw new StaleStateError();
    ctx.metrics.recoveries.inc({ kind: result === 'gone' ? 'resolve_gone' : `resolve_${result}` });
    ctx.log.info('resolved reservation', { topic, partition, resId, result, owner: reservation.slot });
    return result as Resolution;
  }

  /**
   * Resolves reservations found in Redis: expired ones of any slot, and (with `ownSlot`) every leftover of a slot
   * this guard has just initialised, which its earlier incarnation can no longer confirm.
   *
   * The owners' slots are fenced first, all of them, and only then is anything read: an open transaction of a dead
   * guard holds back what read_committed readers may see in its partitions, so reading before every dead owner is
   * fenced could wait for the broker's transaction timeout.
   */
  async sweep(options: { ownSlot?: number; ownPrefix?: string } = {}): Promise<number> {
    const { ctx } = this;
    const now = Number((await ctx.redis.time())[0]) * 1000;
    const due: DueReservation[] = [];
    for (const { topic, partitions } of await ctx.topics.all()) {
      const pipeline = ctx.redis.pipeline();
      for (let p = 0; p < partitions; p++) pipeline.hgetall(ctx.keys.partition(topic, p).res);
      const results = (await pipeline.exec()) ?? [];
      for (let p = 0; p < partitions; p++) {
        due.push(...dueReservations(topic, p, (results[p]?.[1] ?? {}) as Record<string, string>, now, options));
      }
    }
    if (due.length === 0) return 0;
    await Promise.all(
      slotsToFence(due).map((slot) => fence(ctx.kafka, transactionalIdOf(ctx.settings.namespace, slot))),
    );
    await runLimited(due, 4, (d) => this.resolve(d.topic, d.partition, d.resId, { fence: false }));
    return due.length;
  }
}

async function runLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
