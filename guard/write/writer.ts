import type { Producer, RecordMetadata } from 'kafkajs';
import { EventIdConflictError, WrongExpectedVersionError } from '../../pipeline/errors.js';
import { encodeHeaders } from '../../pipeline/events/eventRecord.js';
import { failpoint } from '../../pipeline/faults/failpoints.js';
import type { GuardContext } from '../context.js';
import { initTransactional, isFencedError, transactionalIdOf } from '../protocol/fencing.js';
import {
  type ConfirmEvent,
  confirm,
  parseReserve,
  type ReserveAnswer,
  release,
  reserve,
  type Validated,
} from '../protocol/redisState.js';
import type { Resolver } from '../recovery/resolver.js';
import type { StateMonitor } from '../recovery/stateMonitor.js';
import type { AppendQueue, QueuedAppend } from './appendQueue.js';
import type { SlotLeases } from './slotLeases.js';

interface PartitionGroup {
  topic: string;
  partition: number;
  items: QueuedAppend[];
}

interface Reserved {
  item: QueuedAppend;
  first: number;
  last: number;
}

/**
 * One transactional writer: a leased slot, the producer initialised under the slot's stable transactional id, and
 * the group-commit loop. Each turn of the loop:
 *
 *   1. reserve  one Redis script per partition, all in one pipeline: idempotency, then compare-and-swap, then
 *               versions reserved under a reservation id with a deadline
 *   2. produce  every reserved event in one Kafka transaction (acks=all), then commit
 *   3. confirm  one script per partition: lift the locks, record positions for idempotency, move the watermark;
 *               sent without waiting for it (Redis runs it before anything this guard sends after it)
 *   4. answer   only now: an append is acknowledged only once its transaction has committed
 *
 * A failure before the commit was asked for cannot have made anything visible: the reservations are released
 * and the appends retried. A failure during the commit leaves the outcome unknown: the writer re-initialises its
 * slot (which finishes the transaction either way), resolves its own reservations by reading Kafka, and retries
 * the appends, which are then answered from the first write if it committed.
 */
export class Writer {
  private producer: Producer | undefined;
  private slot: number | undefined;
  private incarnation = 0;
  private seq = 0;
  private stopped = false;
  private renewTimer: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;
  ready = false;

  constructor(
    private readonly ctx: GuardContext,
    private readonly queue: AppendQueue,
    private readonly slots: SlotLeases,
    private readonly state: StateMonitor,
    private readonly resolver: Resolver,
    readonly name: string,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.renewTimer) clearInterval(this.renewTimer);
    await this.loop;
    await this.dropProducer();
    if (this.slot !== undefined) await this.slots.release(this.slot).catch(() => {});
    this.slot = undefined;
  }

  private get prefix(): string {
    return `${this.slot}.${this.ctx.instanceId}.${this.name}.${this.incarnation}.`;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        // Validated state first: a rebuild fences every slot, so a producer initialised before it would be lost.
        if (!this.state.validated) {
          await Promise.race([this.state.whenValid(), sleep(1_000)]);
          continue;
        }
        if (!this.producer) {
          await this.init();
          continue;
        }
        const group = await this.queue.take(this.ctx.settings.maxBatchEvents, this.ctx.settings.lingerMs);
        if (group.length === 0) continue;
        try {
          await this.commitGroup(group);
        } catch (error) {
          // Nothing was committed (every path after the commit is total): unanswered appends try again.
          for (const item of group) if (!item.settled) this.requeue(item, 'error', 100);
          throw error;
        }
      } catch (error) {
        this.ctx.log.warn('writer loop error', { writer: this.name, error });
        await this.dropProducer();
        await sleep(200);
      }
    }
  }

  /** Lease a slot, take its transactional id (fencing any earlier holder), settle what that holder left open. */
  private async init(): Promise<void> {
    this.ready = false;
    // Re-initialising a slot another guard has since leased would fence that guard: lease again instead.
    if (this.slot !== undefined && !(await this.slots.renew(this.slot))) this.slot = undefined;
    if (this.slot === undefined) this.slot = await this.slots.acquire();
    this.incarnation += 1;
    const transactionalId = transactionalIdOf(this.ctx.settings.namespace, this.slot);
    this.producer = await initTransactional(
      this.ctx.kafka,
      transactionalId,
      Math.max(10_000, this.ctx.settings.leaseMs * 2),
    );
    this.ctx.log.info('writer ready', { writer: this.name, slot: this.slot, transactionalId });
    if (!this.renewTimer) {
      this.renewTimer = setInterval(() => void this.renew(), Math.max(100, Math.floor(this.ctx.settings.leaseMs / 3)));
      this.renewTimer.unref();
    }
    this.ready = true;
    // What this slot's earlier holder left open can be settled now (its epoch is gone); in the background, since
    // it only concerns the streams those reservations lock.
    if (this.state.validated) {
      void this.resolver
        .sweep({ ownSlot: this.slot, ownPrefix: this.prefix })
        .catch((error: unknown) => this.ctx.log.warn('sweep after init failed', { error }));
    }
  }

  private async renew(): Promise<void> {
    if (this.slot === undefined || this.stopped) return;
    try {
      if (!(await this.slots.renew(this.slot))) {
        this.ctx.log.warn('slot lease lost to another guard; re-leasing', { writer: this.name, slot: this.slot });
        this.slot = undefined;
        await this.dropProducer();
      }
    } catch {
      // Redis unreachable: the lease may lapse, and then Kafka's fencing protects the log.
    }
  }

  private async dropProducer(): Promise<void> {
    this.ready = false;
    const producer = this.producer;
    this.producer = undefined;
    if (producer) await producer.disconnect().catch(() => {});
  }

  private async commitGroup(group: QueuedAppend[]): Promise<void> {
    const producer = this.producer;
    const v = this.state.validated;
    if (!producer || !v || this.slot === undefined) {
      for (const item of group) this.queue.retryLater(item, 50);
      return;
    }
    const started = process.hrtime.bigint();
    const resId = `${this.prefix}${++this.seq}`;
    const partitions = groupByPartition(group);

    // 1. reserve
    const reserved = new Map<PartitionGroup, Reserved[]>();
    let results: [Error | null, unknown][] | null;
    try {
      const pipeline = this.ctx.redis.pipeline();
      for (const pg of partitions) {
        reserve(
          pipeline,
          this.ctx.keys,
          this.ctx.keys.partition(pg.topic, pg.partition),
          v,
          { resId, slot: this.slot, ttlMs: this.ctx.settings.reservationMs },
          pg.items.map((i) => ({ stream: i.append.stream, expected: i.append.expected, events: i.append.events })),
        );
      }
      results = await pipeline.exec();
    } catch (error) {
      this.ctx.log.warn('reserve failed', { error });
      for (const item of group) this.requeue(item, 'redis', 100);
      return;
    }
    partitions.forEach((pg, index) => {
      const [error, raw] = results?.[index] ?? [new Error('no answer'), undefined];
      if (error) {
        for (const item of pg.items) this.requeue(item, 'redis', 100);
        return;
      }
      const answers = parseReserve(raw);
      if (answers === 'stale') {
        this.state.invalidate('a reservation found the Redis state changed');
        for (const item of pg.items) this.requeue(item, 'stale', 200);
        return;
      }
      const ok: Reserved[] = [];
      pg.items.forEach((item, i) => {
        const answer = answers[i];
        if (answer?.kind === 'ok') ok.push({ item, first: answer.first, last: answer.last });
        else if (answer) this.settle(item, answer, pg);
      });
      if (ok.length > 0) reserved.set(pg, ok);
    });
    if (reserved.size === 0) return;
    failpoint('after-reserve');
    this.ctx.metrics.groupCommitAppends.observe([...reserved.values()].reduce((n, r) => n + r.length, 0));

    // 2. produce and commit
    const timeMs = Date.now();
    const byTopic = new Map<
      string,
      { key: string; value: Buffer; partition: number; headers: Record<string, string>; timestamp: string }[]
    >();
    for (const [pg, list] of reserved) {
      let messages = byTopic.get(pg.topic);
      if (!messages) {
        messages = [];
        byTopic.set(pg.topic, messages);
      }
      for (const r of list) {
        r.item.append.events.forEach((e, i) => {
          messages.push({
            key: r.item.append.stream,
            value: e.value,
            partition: pg.partition,
            timestamp: String(timeMs),
            headers: encodeHeaders({
              stream: r.item.append.stream,
              version: r.first + i,
              eventId: e.id,
              type: e.type,
              timeMs,
              contentHash: e.hash,
              ...(e.metadata === undefined ? {} : { metadata: e.metadata }),
            }),
          });
        });
      }
    }
    let committing = false;
    let metadata: RecordMetadata[];
    try {
      const tx = await producer.transaction();
      try {
        metadata = await tx.sendBatch({
          acks: -1,
          timeout: 10_000,
          topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        });
        failpoint('after-send', `reservation ${resId}`);
        committing = true;
        await tx.commit();
      } catch (error) {
        if (!committing) await tx.abort().catch(() => {});
        throw error;
      }
    } catch (error) {
      await this.afterFailedCommit(error, committing, resId, reserved, v);
      return;
    }

    failpoint('after-commit');
    // 3. confirm (the answer no longer depends on it: the events are committed)
    const base = new Map(metadata.map((m) => [`${m.topicName}:${m.partition}`, Number(m.baseOffset)]));
    const outcomes: {
      item: QueuedAppend;
      first: number;
      last: number;
      topic: string;
      partition: number;
      offset: number;
    }[] = [];
    const pipeline = this.ctx.redis.pipeline();
    for (const [pg, list] of reserved) {
      let offset = base.get(`${pg.topic}:${pg.partition}`) ?? Number.NaN;
      const events: ConfirmEvent[] = [];
      for (const r of list) {
        r.item.append.events.forEach((e, i) => {
          events.push({ id: e.id, stream: r.item.append.stream, version: r.first + i, offset, hash: e.hash });
          offset += 1;
        });
        outcomes.push({
          item: r.item,
          first: r.first,
          last: r.last,
          topic: pg.topic,
          partition: pg.partition,
          offset: offset - 1,
        });
      }
      confirm(
        pipeline,
        this.ctx.keys,
        this.ctx.keys.partition(pg.topic, pg.partition),
        v,
        {
          resId,
          windowMs: this.ctx.settings.windowMs,
          topic: pg.topic,
          partition: pg.partition,
          lastOffset: offset - 1,
        },
        events,
      );
    }
    // Sent, not awaited: this writer's next reservation (and the other writer's) goes out on the same Redis
    // connection after it, so Redis applies the confirmation first; the answer does not depend on it.
    void pipeline
      .exec()
      .then((confirmed) => {
        if ((confirmed ?? []).some(([error, answer]) => error || answer === 'stale')) {
          this.state.invalidate('a confirmation found the Redis state changed');
        }
      })
      .catch((error: unknown) => {
        this.ctx.log.warn('confirm failed; the reservation will be resolved from Kafka', { resId, error });
      });

    failpoint('after-confirm');
    // 4. answer
    let events = 0;
    for (const o of outcomes) {
      events += o.item.append.events.length;
      this.ctx.metrics.appends.inc({ outcome: 'written' });
      o.item.resolve({
        stream: o.item.append.stream,
        firstVersion: o.first,
        lastVersion: o.last,
        topic: o.topic,
        partition: o.partition,
        offset: o.offset,
        duplicate: false,
      });
    }
    this.ctx.metrics.events.inc(events);
    this.ctx.metrics.commitSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
  }

  private async afterFailedCommit(
    error: unknown,
    committing: boolean,
    resId: string,
    reserved: Map<PartitionGroup, Reserved[]>,
    v: Validated,
  ): Promise<void> {
    const fenced = isFencedError(error);
    this.ctx.log.warn(committing ? 'commit outcome unknown' : 'produce failed before commit', {
      writer: this.name,
      resId,
      fenced,
      error,
    });
    this.ctx.metrics.fenced.inc();
    await this.dropProducer();
    if (!committing) {
      // The commit was never asked for: nothing of this transaction can become visible.
      // On state that is no longer validated the release does nothing: the rebuild settles the reservation.
      await Promise.all(
        [...reserved.keys()].map((pg) =>
          release(this.ctx.redis, this.ctx.keys, this.ctx.keys.partition(pg.topic, pg.partition), v, resId),
        ),
      ).catch(() => {});
      for (const list of reserved.values()) for (const r of list) this.requeue(r.item, 'produce', 50);
      return;
    }
    for (const list of reserved.values()) for (const r of list) r.item.maybeWritten = true;
    try {
      // Taking the slot's epoch again finishes the transaction one way or the other; then Kafka says which. If the
      // slot went to another guard meanwhile, the resolver fences it explicitly.
      const slot = this.slot;
      await this.init();
      const fence = this.slot !== slot;
      for (const pg of reserved.keys()) await this.resolver.resolve(pg.topic, pg.partition, resId, { fence });
    } catch (recoveryError) {
      this.ctx.log.warn('could not settle own reservation yet; it will be resolved after its deadline', {
        resId,
        error: recoveryError,
      });
    }
    for (const list of reserved.values()) for (const r of list) this.requeue(r.item, 'commit_unknown', 20);
  }

  private requeue(item: QueuedAppend, reason: string, delayMs: number): void {
    this.ctx.metrics.retries.inc({ reason });
    this.queue.retryLater(item, delayMs);
  }

  /** Answers that need no write. */
  private settle(item: QueuedAppend, answer: Exclude<ReserveAnswer, { kind: 'ok' }>, pg: PartitionGroup): void {
    const { stream } = item.append;
    switch (answer.kind) {
      case 'dup':
        this.ctx.metrics.appends.inc({ outcome: 'duplicate' });
        item.resolve({
          stream,
          firstVersion: answer.first,
          lastVersion: answer.last,
          topic: answer.topic,
          partition: answer.partition,
          offset: answer.offset,
          duplicate: true,
        });
        return;
      case 'conflict':
        // Also final after an earlier try with an unknown outcome: the stream was locked until that try was
        // resolved, and had it committed, its ids would have answered 'dup' above.
        this.ctx.metrics.appends.inc({ outcome: 'conflict' });
        item.reject(new WrongExpectedVersionError(stream, item.append.expected, answer.actual));
        return;
      case 'idconflict':
        this.ctx.metrics.appends.inc({ outcome: 'id_conflict' });
        item.reject(new EventIdConflictError(stream, answer.eventId, answer.why));
        return;
      case 'busy':
        if (answer.expired) {
          void this.resolver
            .resolve(pg.topic, pg.partition, answer.holder, { fence: true })
            .catch((error: unknown) => this.ctx.log.warn('resolve failed', { resId: answer.holder, error }));
        }
        this.requeue(item, 'busy', Math.min(5 + item.attempts * 5, 100));
        return;
    }
  }
}

function groupByPartition(group: QueuedAppend[]): PartitionGroup[] {
  const map = new Map<string, PartitionGroup>();
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
