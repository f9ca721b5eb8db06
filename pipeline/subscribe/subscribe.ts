import { setTimeout as sleep } from 'node:timers/promises';
import { type Consumer, type EachBatchPayload, type Kafka, type KafkaMessage, logLevel } from 'kafkajs';
import { type KesConfig, loadConfig } from '../config/config.js';
import { SubscriptionHandlerError, SubscriptionRecordError } from '../errors.js';
import { categoryOfTopic } from '../events/streamName.js';
import { createKafka } from '../kafka/kafkaClient.js';
import { assertReadCommittedPatched } from '../kafka/readCommittedPatch.js';
import { isTransientKafkaError } from '../kafka/transientErrors.js';
import { getSchemaById } from '../registry/subjects.js';
import { buildEventCatalog, type EventCatalog } from '../schemas/eventCatalog.js';
import { advances, committableOffset } from './commitPlan.js';
import type { Position } from './position.js';
import { startOffset } from './startOffsets.js';
import { type SubscribedEvent, subscribedEvent, Undeliverable } from './subscribedEvent.js';
import { backoffMs, type SubscribeShape, type SubscriptionSettings, subscriptionSettings } from './subscribeOptions.js';

export interface HandlerContext {
  /** Aborted when the subscription closes or stops: a long handler may give up (it is then delivered again). */
  signal: AbortSignal;
  /** 1 for the first try of this delivery, then 2, 3, … for retries after the handler threw. */
  attempt: number;
}

export type SubscriptionHandler<Data = unknown> = (
  event: SubscribedEvent<Data>,
  context: HandlerContext,
) => Promise<void> | void;

export interface SubscribeOptions extends SubscribeShape {
  /** Brokers, registry and topic prefix; what is not given (and not supplied below) comes from loadConfig(). */
  config?: Partial<Pick<KesConfig, 'KAFKA_BROKERS' | 'SCHEMA_REGISTRY_URL' | 'KES_TOPIC_PREFIX'>>;
  /** A kafkajs client to use instead of one made from config.KAFKA_BROKERS. */
  kafka?: Kafka;
  /** Decodes event values (an opened EventCatalog caches writer schemas by id); else one on config's registry. */
  catalog?: Pick<EventCatalog, 'decode'>;
  /** Called once if the subscription stops on an error (the same error `done` rejects with). */
  onError?: (error: unknown) => void;
  log?: (line: string) => void;
}

export interface Subscription {
  readonly group: string;
  readonly topics: readonly string[];
  /** Resolves when the subscription has joined its group and fixed where each of its partitions starts. */
  readonly ready: Promise<void>;
  /** Resolves after close(); rejects with the error the subscription stopped on (SubscriptionHandlerError, …). */
  readonly done: Promise<void>;
  /** Partitions this member holds now. */
  readonly assignedPartitions: number;
  /** Lets in-flight handlers finish and commits them, then leaves the group. */
  close(): Promise<void>;
}

/**
 * A catch-up subscription: a consumer group over the categories' topics that hands each committed event to
 * `handler`, and commits its offset only after the handler has finished. Delivery is at least once: a handler that
 * was running when the process died, or the subscription closed, or the partition moved to another member, gets
 * the event again (in the same order within its partition); nothing is skipped. Docs: docs/subscribe.md.
 *
 *   const sub = subscribe({ categories: ['account'], group: 'mailer', from: 'end' }, async (event) => { … });
 *   await sub.close();
 */
export function subscribe<Data = unknown>(options: SubscribeOptions, handler: SubscriptionHandler<Data>): Subscription {
  // Records of aborted transactions must never reach a handler; refuse to run on an unpatched kafkajs.
  assertReadCommittedPatched();
  const given = options.config ?? {};
  const complete =
    given.KES_TOPIC_PREFIX !== undefined &&
    (options.kafka !== undefined || given.KAFKA_BROKERS !== undefined) &&
    (options.catalog !== undefined || given.SCHEMA_REGISTRY_URL !== undefined);
  const config = complete ? given : { ...loadConfig(), ...given };
  const prefix = config.KES_TOPIC_PREFIX as string;
  const settings = subscriptionSettings(options, prefix);
  const kafka =
    options.kafka ??
    createKafka({ KAFKA_BROKERS: config.KAFKA_BROKERS ?? [] }, `kes-subscribe-${settings.group}`, {
      logLevel: logLevel.NOTHING,
    });
  const registryUrl = config.SCHEMA_REGISTRY_URL as string;
  const catalog = options.catalog ?? buildEventCatalog([], (id) => getSchemaById(registryUrl, id));
  const subscription = new GroupSubscription(
    settings,
    kafka,
    prefix,
    (value) => catalog.decode(value),
    handler as SubscriptionHandler,
    options,
  );
  subscription.start();
  return subscription;
}

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

const keyOf = (topic: string, partition: number) => `${topic}|${partition}`;

class GroupSubscription implements Subscription {
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
  private readonly lastCommitted = new Map<string, number>();
  private readonly commitChains = new Map<string, Promise<void>>();

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
    await this.waitForTopics();
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
      if (batchSize === 0 && !this.stopping) void this.commit(topic, partition, Number(lastOffset) + 1);
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

  /** A category's topic is created by the first append to it; until then there is nothing to deliver. */
  private async waitForTopics(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      let said = false;
      for (;;) {
        const existing = new Set(await admin.listTopics());
        const missing = this.settings.topics.filter((t) => !existing.has(t));
        if (missing.length === 0 || this.stopping) return;
        if (!said) this.log(`waiting for topic(s) ${missing.join(', ')}`);
        said = true;
        await sleep(500);
      }
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }

  /**
   * For each partition just assigned: resume at the group's committed offset, or, without one, start where `from`
   * says, and commit that start at once so that the group keeps it (see startOffsets.ts).
   */
  private async decideStarts(consumer: Consumer, assignment: Record<string, number[]>): Promise<void> {
    const topics = Object.keys(assignment).filter((t) => (assignment[t] ?? []).length > 0);
    if (topics.length === 0) return;
    const admin = this.kafka.admin();
    await admin.connect();
    const toCommit: { topic: string; partition: number; offset: string }[] = [];
    try {
      const committed = await admin.fetchOffsets({ groupId: this.settings.group, topics });
      for (const topic of topics) {
        const bounds =
          this.settings.from === 'start' ? [] : await admin.fetchTopicOffsets(topic).catch(() => undefined);
        if (bounds === undefined) throw new Error(`cannot read the offsets of ${topic}`);
        for (const partition of assignment[topic] ?? []) {
          const key = keyOf(topic, partition);
          const c = committed.find((t) => t.topic === topic)?.partitions.find((p) => p.partition === partition);
          const offset = c ? Number(c.offset) : -1;
          const b = bounds.find((p) => p.partition === partition);
          const start = startOffset(this.settings.from, {
            topic,
            partition,
            committed: offset >= 0 ? offset : undefined,
            low: Number(b?.low ?? 0),
            high: Number(b?.high ?? 0),
          });
          if (offset >= 0) this.lastCommitted.set(key, offset);
          else this.lastCommitted.delete(key);
          if (start === undefined) this.floors.delete(key);
          else {
            this.floors.set(key, start);
            toCommit.push({ topic, partition, offset: String(start) });
          }
        }
      }
    } finally {
      await admin.disconnect().catch(() => {});
    }
    if (toCommit.length === 0) return;
    try {
      await consumer.commitOffsets(toCommit);
      for (const c of toCommit) this.lastCommitted.set(keyOf(c.topic, c.partition), Number(c.offset));
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
      await this.runSlice(indices, batch.messages, deliver);
      const next = committableOffset(offsets, finished, lastOffset);
      if (next !== undefined) {
        resolveOffset(String(next - 1));
        // The next slice need not wait for this commit (commits of a partition run in order, only forward); the
        // batch does, below, so that a revoked partition's commits are made before the member rejoins.
        void this.commit(topic, partition, next, payload.commitOffsetsIfNecessary);
      }
      if (!indices.every((i) => finished[i])) break;
    }
    await this.commitChains.get(keyOf(topic, partition));
  }

  /**
   * One slice of a partition's batch: in offset order, or with streamsAtOnce > 1 several streams side by side, each
   * stream's events in order. Stops taking events once one is not handled.
   */
  private async runSlice(
    indices: number[],
    messages: KafkaMessage[],
    deliver: (i: number) => Promise<boolean>,
  ): Promise<void> {
    if (this.settings.streamsAtOnce === 1) {
      for (const i of indices) if (!(await deliver(i))) return;
      return;
    }
    const byStream = new Map<string, number[]>();
    for (const i of indices) {
      const key = messages[i]?.key?.toString() ?? '';
      const queue = byStream.get(key);
      if (queue) queue.push(i);
      else byStream.set(key, [i]);
    }
    const queues = [...byStream.values()];
    let stopped = false;
    const lane = async () => {
      for (let queue = queues.shift(); queue && !stopped; queue = queues.shift()) {
        for (const i of queue) {
          if (stopped || !(await deliver(i))) {
            stopped = true;
            return;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.settings.streamsAtOnce, queues.length) }, lane));
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

  /**
   * Commits of one partition run one after the other and only ever move forward. Inside a batch the batch's own
   * committer is used: the consumer's commitOffsets silently does nothing once the consumer is stopping, which is
   * exactly when the handlers that were in flight need their offsets committed.
   */
  private commit(
    topic: string,
    partition: number,
    offset: number,
    committer?: EachBatchPayload['commitOffsetsIfNecessary'],
  ): Promise<void> {
    const key = keyOf(topic, partition);
    const next = (this.commitChains.get(key) ?? Promise.resolve()).then(async () => {
      const consumer = this.consumer;
      if (!consumer || !advances(this.lastCommitted.get(key), offset)) return;
      try {
        if (committer) await committer({ topics: [{ topic, partitions: [{ partition, offset: String(offset) }] }] });
        else await consumer.commitOffsets([{ topic, partition, offset: String(offset) }]);
        this.lastCommitted.set(key, offset);
      } catch (error) {
        // Not committed (the group moved on, the coordinator is away): whoever reads the partition next delivers
        // these events again. At least once, never skipped.
        this.log(`${topic}[${partition}]: offset ${offset} not committed (${String(error)})`);
      }
    });
    this.commitChains.set(key, next);
    return next;
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
      await Promise.all(this.commitChains.values());
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
