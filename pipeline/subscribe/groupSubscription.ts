import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { SubscriptionHandlerError, SubscriptionRecordError } from '../errors.js';
import { categoryOfTopic } from '../events/streamName.js';
import { isTransientKafkaError } from '../kafka/transientErrors.js';
import { waitForTopics } from '../kafka/waitForTopics.js';
import { committableOffset } from './commitPlan.js';
import { keyOf, PartitionCommits } from './partitionCommits.js';
import type { Position } from './position.js';
import { decideStarts } from './startDecisions.js';
import { runInStreamLanes } from './streamLanes.js';
import { type SubscribedEvent, subscribedEvent, Undeliverable } from './subscribedEvent.js';
import { backoffMs, type SubscriptionSettings } from './subscribeOptions.js';
import type { SubscribeOptions, Subscription, SubscriptionHandler } from './subscription.js';

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function deferred(): Deferred {
  let resolve = () => {};
  let reject: (error: unknown) => void = () => {};
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A caller that never awaits ready or done must not see an unhandled rejection; one that does still gets it.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/**
 * The subscription `subscribe()` returns: a kafkajs consumer group whose batches are handed, record by record, to the
 * handler, with offsets committed only behind finished handlers (commitPlan.ts). Starts (startDecisions.ts), commits
 * (partitionCommits.ts) and stream lanes (streamLanes.ts) are their own modules; this class runs the consumer and
 * delivers.
 */
export class GroupSubscription implements Subscription {
  private consumer: Consumer | undefined;
  private started: Promise<void> = Promise.resolve();
  private readonly readyOnce = deferred();
  private readonly doneOnce = deferred();
  private readonly abort = new AbortController();
  private closing = false;
  private failure: { error: unknown } | undefined;
  private shutdown: Promise<void> | undefined;
  private assigned = 0;
  /** Where this generation's decisions on start offsets stand; batches wait for them. */
  private decisions: Promise<void> = Promise.resolve();
  /** Per partition without a committed offset at assignment: the first offset `from` says to deliver. */
  private readonly floors = new Map<string, number>();
  private readonly commits = new PartitionCommits(
    () => this.consumer,
    (line) => this.log(line),
  );

  constructor(
    private readonly settings: SubscriptionSettings,
    private readonly kafka: Kafka,
    private readonly topicPrefix: string,
    private readonly decode: (value: Buffer) => Promise<{ data: unknown }>,
    private readonly handler: SubscriptionHandler,
    private readonly options: SubscribeOptions,
  ) {}

  get group(): string {
    return this.settings.group;
  }
  get topics(): readonly string[] {
    return this.settings.topics;
  }
  get ready(): Promise<void> {
    return this.readyOnce.promise;
  }
  get done(): Promise<void> {
    return this.doneOnce.promise;
  }
  get assignedPartitions(): number {
    return this.assigned;
  }

  private get stopping(): boolean {
    return this.closing || this.failure !== undefined;
  }

  start(): void {
    this.started = this.run().catch((error: unknown) => this.fail(error));
  }

  async close(): Promise<void> {
    this.closing = true;
    this.abort.abort();
    await this.stop();
  }

  private async run(): Promise<void> {
    const s = this.settings;
    await waitForTopics(
      this.kafka,
      s.topics,
      () => this.stopping,
      (line) => this.log(line),
    );
    if (this.stopping) return;
    const consumer = this.kafka.consumer({
      groupId: s.group,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 100,
      sessionTimeout: s.sessionTimeoutMs,
      rebalanceTimeout: 60_000,
      heartbeatInterval: Math.max(300, Math.floor(s.sessionTimeoutMs / 10)),
      retry: {
        // Every restart reads again from the committed offsets, which only ever cover finished handlers.
        restartOnFailure: async () => !this.stopping,
      },
    });
    this.consumer = consumer;
    const { GROUP_JOIN, END_BATCH_PROCESS, CRASH } = consumer.events;
    consumer.on(GROUP_JOIN, (event) => {
      const assignment = event.payload.memberAssignment as Record<string, number[]>;
      this.assigned = Object.values(assignment).reduce((n, ps) => n + ps.length, 0);
      // Set before kafkajs fetches for the new generation (listeners run as the event is emitted).
      this.decisions = this.decideStarts(consumer, assignment);
      this.decisions.then(
        () => this.readyOnce.resolve(),
        (error: unknown) => this.log(`could not decide where partitions start (${String(error)}); restarting`),
      );
    });
    consumer.on(END_BATCH_PROCESS, (event) => {
      // A fetch of only transaction markers or aborted records never reaches eachBatch: commit past it, so that a
      // restart does not read it again and the group's lag can reach 0.
      const { topic, partition, batchSize, lastOffset } = event.payload;
      if (batchSize === 0 && !this.stopping) void this.commits.commit(topic, partition, Number(lastOffset) + 1);
    });
    consumer.on(CRASH, (event) => {
      if (event.payload.restart || this.stopping) return;
      if (!isTransientKafkaError(event.payload.error)) {
        this.fail(event.payload.error);
        return;
      }
      // kafkajs gave up for an error that ends when the broker is back (a coordinator missing during a restart): a
      // new consumer reads again from the committed offsets, which only ever cover finished handlers.
      this.log(`the consumer stopped (${String(event.payload.error)}); starting it again`);
      this.started = sleep(1_000)
        .then(() => (this.stopping || this.consumer !== consumer ? undefined : this.run()))
        .catch((error: unknown) => this.fail(error));
    });
    await consumer.connect();
    if (this.stopping) return;
    await consumer.subscribe({ topics: s.topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: s.partitionsAtOnce,
      eachBatch: (payload) => this.batch(payload),
    });
  }

  /**
   * For each partition just assigned: resume at the group's committed offset, or, without one, start where `from`
   * says, and commit that start at once so that the group keeps it (see startOffsets.ts).
   */
  private async decideStarts(consumer: Consumer, assignment: Record<string, number[]>): Promise<void> {
    const decisions = await decideStarts(this.kafka, this.settings.group, this.settings.from, assignment);
    const toCommit: { topic: string; partition: number; offset: string }[] = [];
    for (const d of decisions) {
      const key = keyOf(d.topic, d.partition);
      this.commits.known(d.topic, d.partition, d.committed);
      if (d.start === undefined) this.floors.delete(key);
      else {
        this.floors.set(key, d.start);
        toCommit.push({ topic: d.topic, partition: d.partition, offset: String(d.start) });
      }
    }
    if (toCommit.length === 0) return;
    try {
      await consumer.commitOffsets(toCommit);
      for (const c of toCommit) this.commits.known(c.topic, c.partition, Number(c.offset));
    } catch (error) {
      // This member still starts there (the floors); a member that takes the partition later decides again.
      this.log(`start offsets not committed (${String(error)})`);
    }
  }

  private async batch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    // A failed decision throws here: kafkajs restarts the consumer, which joins and decides again.
    await this.decisions;
    if (this.stopping || !isRunning() || isStale()) return;
    const { topic, partition } = batch;
    const category = categoryOfTopic(this.topicPrefix, topic) ?? topic;
    const floor = this.floors.get(keyOf(topic, partition));
    const offsets = batch.messages.map((m) => Number(m.offset));
    const lastOffset = Number(batch.lastOffset());
    // Records before the start `from` gave are not part of the subscription: they count as done.
    const finished = offsets.map((o) => floor !== undefined && o < floor);
    if (floor !== undefined && lastOffset + 1 < floor && this.consumer) {
      this.consumer.seek({ topic, partition, offset: String(floor) });
      return;
    }
    let revoked = false;
    let lastBeat = Date.now();
    const beat = async () => {
      // kafkajs sends a heartbeat only once per interval anyway; asking after every event costs a few awaits each.
      if (Date.now() - lastBeat < 250) return;
      lastBeat = Date.now();
      try {
        await heartbeat();
      } catch {
        // The group is rebalancing: finish what runs, commit it, hand the partition over.
        revoked = true;
      }
    };
    const going = () => !revoked && !this.stopping && isRunning() && !isStale();
    const slice = this.settings.sliceRecords;
    for (let from = 0; from < batch.messages.length; from += slice) {
      const indices: number[] = [];
      for (let i = from; i < Math.min(from + slice, batch.messages.length); i++) if (!finished[i]) indices.push(i);
      const deliver = async (i: number): Promise<boolean> => {
        if (!going()) return false;
        const message = batch.messages[i] as KafkaMessage;
        const handled = await this.deliver({ topic, partition, offset: offsets[i] as number }, category, message, beat);
        if (handled) finished[i] = true;
        await beat();
        return handled;
      };
      const keyAt = (i: number) => batch.messages[i]?.key?.toString() ?? '';
      await runInStreamLanes(indices, keyAt, this.settings.streamsAtOnce, deliver);
      const next = committableOffset(offsets, finished, lastOffset);
      if (next !== undefined) {
        resolveOffset(String(next - 1));
        // The next slice need not wait for this commit (commits of a partition run in order, only forward); the
        // batch does, below, so that a revoked partition's commits are made before the member rejoins.
        void this.commits.commit(topic, partition, next, payload.commitOffsetsIfNecessary);
      }
      if (!indices.every((i) => finished[i])) break;
    }
    await this.commits.settled(topic, partition);
  }

  /** Hands one record to the handler, retrying as settings.retry says; false when it was not handled. */
  private async deliver(
    position: Position,
    category: string,
    message: KafkaMessage,
    beat: () => Promise<void>,
  ): Promise<boolean> {
    const { retry, group } = this.settings;
    let event: SubscribedEvent | undefined;
    for (let attempt = 1; ; attempt++) {
      if (this.stopping) return false;
      try {
        if (!event) {
          const decoded = await subscribedEvent(position, category, message, this.decode);
          if (decoded instanceof Undeliverable) {
            this.fail(new SubscriptionRecordError(group, position, decoded.reason, decoded.cause));
            return false;
          }
          event = decoded;
        }
        await this.handler(event, { signal: this.abort.signal, attempt });
        return true;
      } catch (error) {
        // Closing interrupted it: not handled, so not committed; the group delivers it again.
        if (this.stopping) return false;
        if (attempt > retry.retries) {
          const at = { ...position, stream: event?.stream ?? '?', version: event?.version ?? -1 };
          this.fail(new SubscriptionHandlerError(group, at, attempt, error));
          return false;
        }
        if (attempt === 1 || attempt % 10 === 0) {
          this.log(
            `${position.topic}[${position.partition}]@${position.offset}: handler failed (${String(error)}), retry ${attempt}`,
          );
        }
        await sleep(backoffMs(retry, attempt), undefined, { signal: this.abort.signal }).catch(() => {});
        await beat();
      }
    }
  }

  private fail(error: unknown): void {
    if (this.failure || this.closing) return;
    this.failure = { error };
    this.abort.abort();
    this.options.onError?.(error);
    // Not awaited: this may run inside a batch, which the consumer's stop waits for.
    void this.stop();
  }

  private stop(): Promise<void> {
    this.shutdown ??= (async () => {
      await this.started.catch(() => {});
      const consumer = this.consumer;
      // kafkajs lets the batches in progress return first; each commits what its handlers finished.
      if (consumer) await consumer.disconnect().catch((e: unknown) => this.log(`disconnect: ${String(e)}`));
      await this.commits.allSettled();
      this.assigned = 0;
      const error = this.failure?.error;
      this.readyOnce.reject(error ?? new Error(`subscription ${this.settings.group} closed before it was ready`));
      if (error === undefined) this.doneOnce.resolve();
      else this.doneOnce.reject(error);
    })();
    return this.shutdown;
  }

  private log(line: string): void {
    this.options.log?.(`subscription ${this.settings.group}: ${line}`);
  }
}
