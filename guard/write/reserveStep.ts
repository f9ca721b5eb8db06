import type { PreparedAppend } from '../append/preparedAppend.js';
import type { GuardContext } from '../context.js';
import { release, type Validated } from '../protocol/redisState.js';
import type { Resolver } from '../recovery/resolver.js';
import type { StateMonitor } from '../recovery/stateMonitor.js';
import type { QueuedAppend, QueuedAtomic, QueuedUnit } from './appendQueue.js';
import { carryOutRefusal } from './conflictRefusal.js';
import { type AtomicMember, decideAtomic } from './decideAtomic.js';
import {
  decideReserveAnswers,
  type ReserveDecision,
  type ReservedAppend,
  type ReservedPartition,
} from './decideReserveAnswers.js';
import { groupByPartition, type PartitionGroup } from './groupByPartition.js';
import { sendReserves } from './sendReserves.js';

/** What a reservation grants: per partition, the appends to write and their versions. */
export type Reserved = ReservedPartition<{ append: PreparedAppend }>;
export type AtomicItem = AtomicMember & { append: PreparedAppend; attempts: number };

/**
 * Step 1 of a group commit (writer.ts): one reserve script per partition, all in one Redis pipeline, then the pure
 * decisions (decideReserveAnswers, decideAtomic) carried out. What is granted comes back to the writer to be written;
 * everything else is answered here (a duplicate from its first write, a refusal, after a read-back when it names an
 * exact version) or sent back to the queue (a busy stream, Redis unreachable, state to check). An atomic batch is
 * granted whole or released whole.
 */
export class ReserveStep {
  constructor(
    private readonly ctx: GuardContext,
    private readonly state: StateMonitor,
    private readonly resolver: Resolver,
    /** Back into the queue after a delay, counted by reason (the writer's). */
    private readonly requeue: (item: QueuedUnit, reason: string, delayMs: number) => void,
  ) {}

  /** Reserves a group of independent appends; every answer that needs no write is carried out here. */
  async appends(group: QueuedAppend[], resId: string, v: Validated, slot: number): Promise<Reserved[]> {
    const partitions = groupByPartition(group);
    const results = await this.send(partitions, resId, v, slot);
    if (!results) {
      for (const item of group) this.requeue(item, 'redis', 100);
      return [];
    }
    const reserved: ReservedPartition<QueuedAppend>[] = [];
    partitions.forEach((pg, index) => {
      const decision = decideReserveAnswers(pg.items, results[index]);
      if (decision.kind === 'retry') {
        if (decision.reason === 'stale') this.state.invalidate('a reservation found the Redis state changed');
        for (const item of pg.items) this.requeue(item, decision.reason, decision.delayMs);
        return;
      }
      const appends: ReservedAppend<QueuedAppend>[] = [];
      for (const d of decision.decisions) {
        if (d.kind === 'write') appends.push({ item: d.item, first: d.first, last: d.last });
        else this.settle(d, pg);
      }
      if (appends.length > 0) reserved.push({ topic: pg.topic, partition: pg.partition, appends });
    });
    return reserved;
  }

  /**
   * Reserves an atomic batch: every member's partition in one pipeline, then one decision for the batch
   * (decideAtomic). Anything reserved for a batch that is not written is released before the batch is answered or
   * sent back, so no stream stays locked for it.
   */
  async atomic(unit: QueuedAtomic, resId: string, v: Validated, slot: number): Promise<Reserved[]> {
    const members: AtomicItem[] = unit.atomic.map((append, index) => ({ index, append, attempts: unit.attempts }));
    const partitions = groupByPartition(members);
    const results = await this.send(partitions, resId, v, slot);
    if (!results) {
      this.requeue(unit, 'redis', 100);
      return [];
    }
    const decision = decideAtomic(
      members.length,
      partitions.map((pg, index) => ({ ...pg, decision: decideReserveAnswers(pg.items, results[index]) })),
    );
    if (decision.kind === 'write') return decision.reserved;
    const locked = partitions.filter((_, index) => {
      const answers = results[index]?.[1];
      return Array.isArray(answers) && answers.some((a) => Array.isArray(a) && a[0] === 'ok');
    });
    await Promise.all(
      locked.map((pg) =>
        release(this.ctx.redis, this.ctx.keys, this.ctx.keys.partition(pg.topic, pg.partition), v, resId),
      ),
    ).catch((error: unknown) =>
      // Left locked until the reservation's deadline, when the resolver finds nothing written and rolls it back.
      this.ctx.log.warn('could not release an atomic batch not written', { resId, error }),
    );
    switch (decision.kind) {
      case 'answer':
        this.ctx.metrics.appends.inc({ outcome: 'duplicate' }, members.length);
        unit.resolve(decision.outcomes);
        break;
      case 'refuse':
        this.ctx.metrics.appends.inc({ outcome: 'atomic_refused' }, members.length);
        unit.refuse(decision.errors);
        break;
      case 'retry':
        if (decision.reason === 'stale') this.state.invalidate('a reservation found the Redis state changed');
        for (const holder of decision.resolveHolders) this.resolveHolder(locked[0] ?? partitions[0], holder);
        this.requeue(unit, decision.reason, decision.delayMs);
        break;
    }
    return [];
  }

  /** The group's reserve scripts in one pipeline; undefined when Redis could not be asked (everything retries). */
  private async send(
    partitions: readonly PartitionGroup<{ append: PreparedAppend }>[],
    resId: string,
    v: Validated,
    slot: number,
  ): Promise<[Error | null, unknown][] | undefined> {
    try {
      return await sendReserves(this.ctx, partitions, { resId, slot, ttlMs: this.ctx.settings.reservationMs }, v);
    } catch (error) {
      this.ctx.log.warn('reserve failed', { error });
      return undefined;
    }
  }

  /** Carries out an answer that needs no write. */
  private settle(d: Exclude<ReserveDecision<QueuedAppend>, { kind: 'write' }>, pg: PartitionGroup<QueuedAppend>): void {
    switch (d.kind) {
      case 'answer':
        this.ctx.metrics.appends.inc({ outcome: 'duplicate' });
        d.item.resolve(d.outcome);
        return;
      case 'refuse':
        carryOutRefusal(this.ctx, d.item, d.error, d.metric, pg);
        return;
      case 'wait': {
        if (d.resolveHolder !== undefined) this.resolveHolder(pg, d.resolveHolder);
        this.requeue(d.item, 'busy', d.delayMs);
        return;
      }
    }
  }

  /** A reservation past its deadline holds a stream: settle it from Kafka, in the background. */
  private resolveHolder(pg: { topic: string; partition: number } | undefined, holder: string): void {
    if (!pg) return;
    void this.resolver
      .resolve(pg.topic, pg.partition, holder, { fence: true })
      .catch((error: unknown) => this.ctx.log.warn('resolve failed', { resId: holder, error }));
  }
}
