import { setTimeout as sleep } from 'node:timers/promises';
import { failpoint } from '../../pipeline/faults/failpoints.js';
import type { PreparedAppend } from '../append/preparedAppend.js';
import type { GuardContext } from '../context.js';
import { isFencedError } from '../protocol/fencing.js';
import { confirm, release, type Validated } from '../protocol/redisState.js';
import { recordPositions } from '../read/streamIndex.js';
import type { Resolver } from '../recovery/resolver.js';
import type { StateMonitor } from '../recovery/stateMonitor.js';
import { type AppendQueue, isAtomic, type QueuedAppend, type QueuedUnit } from './appendQueue.js';
import { buildMessages } from './buildMessages.js';
import { commitOutcomes, type PartitionConfirm } from './commitOutcomes.js';
import { abandonTransaction, beginTransaction, commitTransaction } from './commitTransaction.js';
import { type AtomicItem, type Reserved, ReserveStep } from './reserveStep.js';
import type { SlotLeases } from './slotLeases.js';
import { SlotProducer } from './slotProducer.js';

/** Every partition a group may write: each append's, or each member's of an atomic batch. */
function partitionsOf(group: readonly QueuedUnit[]): PreparedAppend[] {
  return group.flatMap((unit) => (isAtomic(unit) ? [...unit.atomic] : [unit.append]));
}

/**
 * One transactional writer: the group-commit loop over a leased slot's producer (SlotProducer). Each turn:
 *
 *   1. reserve  one Redis script per partition, all in one pipeline: idempotency, then compare-and-swap, then
 *               versions reserved under a reservation id with a deadline (reserveStep.ts)
 *   2. produce  every reserved event in one Kafka transaction (acks=all), then commit
 *   3. answer   only now: an append is acknowledged only once its transaction has committed
 *   4. confirm  one script per partition: lift the locks, record positions for idempotency, move the watermark;
 *               sent right after the answers, without waiting for it (Redis runs it before anything this guard
 *               sends after it)
 *
 * A failure before the commit was asked for cannot have made anything visible: the reservations are released
 * and the appends retried. A failure during the commit leaves the outcome unknown: the writer re-initialises its
 * slot (which finishes the transaction either way), resolves its own reservations by reading Kafka, and retries
 * the appends, which are then answered from the first write if it committed.
 */
export class Writer {
  private readonly lease: SlotProducer;
  private readonly reserveStep: ReserveStep;
  private seq = 0;
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly ctx: GuardContext,
    private readonly queue: AppendQueue,
    slots: SlotLeases,
    private readonly state: StateMonitor,
    private readonly resolver: Resolver,
    readonly name: string,
  ) {
    this.lease = new SlotProducer(ctx, slots, state, resolver, name);
    this.reserveStep = new ReserveStep(ctx, state, resolver, (item, reason, delayMs) =>
      this.requeue(item, reason, delayMs),
    );
  }

  get ready(): boolean {
    return this.lease.ready;
  }

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.lease.stopRenewing();
    await this.loop;
    await this.lease.close();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        // Validated state first: a rebuild fences every slot, so a producer initialised before it would be lost.
        if (!this.state.validated) {
          await Promise.race([this.state.whenValid(), sleep(1_000)]);
          continue;
        }
        if (!this.lease.producer) {
          await this.lease.init();
          continue;
        }
        const group = await this.queue.take(this.ctx.settings.maxBatchEvents, this.ctx.settings.lingerMs);
        if (group.length === 0) continue;
        try {
          await this.queue.committed(() => this.commitGroup(group));
          // The group's confirmation is sent in the next turn (commitGroup, step 4): it goes out before this writer's
          // next reservation, which may lift the same streams' locks.
          await new Promise((resolve) => setImmediate(resolve));
        } catch (error) {
          // Nothing was committed (every path after the commit is total): unanswered appends try again.
          for (const item of group) if (!item.settled) this.requeue(item, 'error', 100);
          throw error;
        }
      } catch (error) {
        this.ctx.log.warn('writer loop error', { writer: this.name, error });
        await this.lease.drop();
        await sleep(200);
      }
    }
  }

  private async commitGroup(group: QueuedUnit[]): Promise<void> {
    const producer = this.lease.producer;
    const v = this.state.validated;
    const slot = this.lease.slot;
    if (!producer || !v || slot === undefined) {
      for (const item of group) this.queue.retryLater(item, 50);
      return;
    }
    const started = process.hrtime.bigint();
    const resId = `${this.lease.prefix}${++this.seq}`;
    const first = group[0];
    // The transaction's first round trip (AddPartitionsToTxn) overlaps the reservation's.
    const open = await beginTransaction(producer, partitionsOf(group));
    const reserved =
      first && isAtomic(first)
        ? await this.reserveStep.atomic(first, resId, v, slot)
        : await this.reserveStep.appends(group as QueuedAppend[], resId, v, slot);
    if (reserved.length === 0) {
      // Nothing to write (every append answered, refused or sent back): end the empty transaction. A producer that
      // cannot is in doubt and is replaced; no append of this group depends on it any more.
      await abandonTransaction(open).catch(async (error: unknown) => {
        this.ctx.log.warn('could not end an empty transaction; replacing the producer', { writer: this.name, error });
        await this.lease.drop();
      });
      return;
    }
    failpoint('after-reserve');
    this.ctx.metrics.groupCommitAppends.observe(reserved.reduce((n, pg) => n + pg.appends.length, 0));

    // 2. produce and commit
    const tx = await commitTransaction(open, buildMessages(reserved, Date.now()), resId);
    if (!tx.ok) {
      await this.afterFailedCommit(tx.error, tx.committing, resId, reserved, v, group);
      return;
    }

    failpoint('after-commit');
    // 3. answer: the events are committed, so nothing the answer says depends on Redis any more
    const { confirms, answers } = commitOutcomes(reserved, tx.metadata);
    let events = 0;
    for (const { item } of answers) events += item.append.events.length;
    if (first && isAtomic(first)) {
      const outcomes = new Array(first.atomic.length);
      for (const { item, outcome } of answers) outcomes[(item as AtomicItem).index] = outcome;
      this.ctx.metrics.appends.inc({ outcome: 'written' }, first.atomic.length);
      first.resolve(outcomes);
    } else {
      for (const { item, outcome } of answers) {
        this.ctx.metrics.appends.inc({ outcome: 'written' });
        (item as QueuedAppend).resolve(outcome);
      }
    }
    this.ctx.metrics.events.inc(events);
    this.ctx.metrics.commitSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    // 4. confirm, once the answers are written: a socket write costs a lone writer about 0.1 ms on these machines,
    // and the answer need not wait for it. The writer's loop yields a turn before its next group (run()), so this
    // still reaches Redis before that group's reservation; a request that follows an answer is read in a later turn.
    setImmediate(() => {
      this.confirm(confirms, resId, v);
      failpoint('after-confirm');
    });
  }

  /**
   * Sent, not awaited: this writer's next reservation (and the other writer's) goes out on the same Redis
   * connection after it, so Redis applies the confirmation first; the answer does not depend on it.
   */
  private confirm(confirms: readonly PartitionConfirm[], resId: string, v: Validated): void {
    const pipeline = this.ctx.redis.pipeline();
    for (const c of confirms) {
      confirm(
        pipeline,
        this.ctx.keys,
        this.ctx.keys.partition(c.topic, c.partition),
        v,
        { resId, window: this.ctx.settings.window, lastOffset: c.lastOffset },
        c.events,
      );
    }
    // The streams' position index (guard/read/): committed events only, after the confirmations and in the same
    // write to Redis (a lone writer's latency is mostly socket writes: each one saved counts).
    recordPositions(this.ctx.redis, pipeline, this.ctx.keys.prefix, confirms);
    void pipeline
      .exec()
      .then((answers) => {
        const confirmed = (answers ?? []).slice(0, confirms.length);
        if (confirmed.some(([error, answer]) => error || answer === 'stale')) {
          this.state.invalidate('a confirmation found the Redis state changed');
        }
      })
      .catch((error: unknown) => {
        this.ctx.log.warn('confirm failed; the reservation will be resolved from Kafka', { resId, error });
      });
  }

  private async afterFailedCommit(
    error: unknown,
    committing: boolean,
    resId: string,
    reserved: readonly Reserved[],
    v: Validated,
    group: readonly QueuedUnit[],
  ): Promise<void> {
    // The units that were in the transaction: each append reserved, or the atomic batch as a whole.
    const first = group[0];
    const units: QueuedUnit[] =
      first && isAtomic(first) ? [first] : reserved.flatMap((pg) => pg.appends.map((r) => r.item as QueuedAppend));
    const fenced = isFencedError(error);
    this.ctx.log.warn(committing ? 'commit outcome unknown' : 'produce failed before commit', {
      writer: this.name,
      resId,
      fenced,
      error,
    });
    this.ctx.metrics.fenced.inc();
    await this.lease.drop();
    if (!committing) {
      // The commit was never asked for: nothing of this transaction can become visible.
      // On state that is no longer validated the release does nothing: the rebuild settles the reservation.
      await Promise.all(
        reserved.map((pg) =>
          release(this.ctx.redis, this.ctx.keys, this.ctx.keys.partition(pg.topic, pg.partition), v, resId),
        ),
      ).catch(() => {});
      for (const unit of units) this.requeue(unit, 'produce', 50);
      return;
    }
    for (const unit of units) unit.maybeWritten = true;
    try {
      // Taking the slot's epoch again finishes the transaction one way or the other; then Kafka says which. If the
      // slot went to another guard meanwhile, the resolver fences it explicitly.
      const slot = this.lease.slot;
      await this.lease.init();
      const fence = this.lease.slot !== slot;
      for (const pg of reserved) await this.resolver.resolve(pg.topic, pg.partition, resId, { fence });
    } catch (recoveryError) {
      this.ctx.log.warn('could not settle own reservation yet; it will be resolved after its deadline', {
        resId,
        error: recoveryError,
      });
    }
    for (const unit of units) this.requeue(unit, 'commit_unknown', 20);
  }

  private requeue(item: QueuedUnit, reason: string, delayMs: number): void {
    this.ctx.metrics.retries.inc({ reason });
    this.queue.retryLater(item, delayMs);
  }
}
