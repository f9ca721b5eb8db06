import { AppendIndeterminateError, NotReadyError } from '../../pipeline/errors.js';
import type { StreamName } from '../../pipeline/events/streamName.js';
import type { EventCatalog } from '../../pipeline/schemas/eventCatalog.js';
import type { AppendOutcome } from '../append/appendOutcome.js';
import { type AppendRequest, parseAppendRequest, parseStream } from '../append/appendRequest.js';
import { attemptDeadline } from '../append/attemptDeadline.js';
import { authorizeWrite, type Principal } from '../append/authority.js';
import { atomicRefusal, type BatchAnswer, type ItemOutcome, independentAnswer } from '../append/batchAnswer.js';
import { type BatchItem, parseBatchRequest } from '../append/batchRequest.js';
import type { PreparedAppend, PreparedEvent } from '../append/preparedAppend.js';
import { prepareEvents } from '../append/prepareEvents.js';
import type { GuardContext } from '../context.js';
import { partitionOf } from '../protocol/partitioner.js';
import type { StateMonitor } from '../recovery/stateMonitor.js';
import { type AppendQueue, isAtomic, type QueuedAppend, type QueuedAtomic, type QueuedUnit } from './appendQueue.js';
import type { Writer } from './writer.js';

/**
 * The guard's front door: checks an append completely (name, authority, shape, sizes, schemas), then hands it to
 * the group-commit queue and waits for its answer. Nothing is reserved before every check has passed.
 */
export class AppendService {
  constructor(
    private readonly ctx: GuardContext,
    private readonly catalog: EventCatalog,
    private readonly queue: AppendQueue,
    private readonly state: StateMonitor,
    private readonly writers: readonly Writer[],
    private readonly maxEventBytes: number,
    private readonly maxBatchAppends: number,
  ) {}

  readiness(): { ready: boolean; reason: string } {
    if (!this.state.validated) return { ready: false, reason: this.state.reason || 'validating state' };
    if (!this.writers.some((w) => w.ready)) return { ready: false, reason: 'no transactional writer initialised yet' };
    return { ready: true, reason: '' };
  }

  /** An HTTP append: its stream parameter and JSON body. */
  async append(
    streamParam: string,
    body: unknown,
    principal: Principal,
    clientDeadline?: number,
    traceparent?: string,
  ): Promise<AppendOutcome> {
    const started = process.hrtime.bigint();
    const request = parseAppendRequest(streamParam, body, this.catalog, this.maxEventBytes);
    return this.write(request, principal, started, clientDeadline, traceparent);
  }

  /** Events checked and encoded as an HTTP append's are (paths `events[i]...`), for callers inside the guard. */
  prepare(events: readonly unknown[]): PreparedEvent[] {
    return prepareEvents(events, this.catalog, this.maxEventBytes);
  }

  /** An append whose stream name and events are already checked (a command's decision). */
  appendPrepared(
    request: AppendRequest,
    principal: Principal,
    clientDeadline?: number,
    traceparent?: string,
  ): Promise<AppendOutcome> {
    return this.write(request, principal, process.hrtime.bigint(), clientDeadline, traceparent);
  }

  private async write(
    request: AppendRequest,
    principal: Principal,
    started: bigint,
    clientDeadline: number | undefined,
    traceparent: string | undefined,
  ): Promise<AppendOutcome> {
    authorizeWrite(principal, request.stream.category);
    this.ensureReady();
    const append = await this.place(request, traceparent);
    const deadline = attemptDeadline(Date.now(), this.ctx.settings.appendTimeoutMs, clientDeadline);
    try {
      return await this.enqueue(append, deadline);
    } finally {
      this.ctx.metrics.appendSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  /**
   * `POST /appends`. The top level is checked first (a malformed one refuses the request); then every item like a
   * single append. Independent items are all queued before any is awaited, so they share group commits; an atomic
   * batch is queued as one unit and written in one transaction, or refused whole.
   */
  async appendBatch(
    body: unknown,
    principal: Principal,
    clientDeadline?: number,
    traceparent?: string,
  ): Promise<BatchAnswer> {
    const started = process.hrtime.bigint();
    const batch = parseBatchRequest(body, this.catalog, this.maxEventBytes, this.maxBatchAppends);
    this.ctx.metrics.batchItems.observe({ route: 'appends' }, batch.items.length);
    this.ensureReady();
    const deadline = attemptDeadline(Date.now(), this.ctx.settings.appendTimeoutMs, clientDeadline);
    try {
      return batch.atomic
        ? await this.writeAtomic(batch.items, principal, deadline, traceparent)
        : independentAnswer(await this.writeEach(batch.items, principal, deadline, traceparent));
    } finally {
      this.ctx.metrics.appendSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  private async writeEach(
    items: readonly BatchItem[],
    principal: Principal,
    deadline: number,
    traceparent: string | undefined,
  ): Promise<ItemOutcome[]> {
    const pending = items.map(async (item): Promise<ItemOutcome> => {
      try {
        if (!item.ok) throw item.error;
        authorizeWrite(principal, item.request.stream.category);
        return { ok: true, outcome: await this.enqueue(await this.place(item.request, traceparent), deadline) };
      } catch (error) {
        return { ok: false, error };
      }
    });
    return Promise.all(pending);
  }

  private async writeAtomic(
    items: readonly BatchItem[],
    principal: Principal,
    deadline: number,
    traceparent: string | undefined,
  ): Promise<BatchAnswer> {
    const errors: unknown[] = items.map((item) => {
      if (!item.ok) return item.error;
      try {
        authorizeWrite(principal, item.request.stream.category);
        return undefined;
      } catch (error) {
        return error;
      }
    });
    if (errors.some((e) => e !== undefined)) return atomicRefusal(errors);
    const members = await Promise.all(
      items.map((item) => this.place((item as Extract<BatchItem, { ok: true }>).request, traceparent)),
    );
    return new Promise<BatchAnswer>((resolve) => {
      const unit: QueuedAtomic = {
        atomic: members,
        resolve: (outcomes) => {
          unit.settled = true;
          resolve(independentAnswer(outcomes.map((outcome) => ({ ok: true, outcome }))));
        },
        refuse: (refusals) => {
          unit.settled = true;
          resolve(atomicRefusal(refusals));
        },
        // Answered as one (not ready in time, or outcome unknown): every member has that answer, since none of
        // them failed for another's sake.
        reject: (error) => {
          unit.settled = true;
          resolve(atomicRefusal(members.map(() => error)));
        },
        deadline,
        attempts: 0,
        maybeWritten: false,
        enqueuedAt: Date.now(),
      };
      this.queue.push(unit);
      this.ctx.metrics.queued.set(this.queue.size);
    });
  }

  private ensureReady(): void {
    const { ready, reason } = this.readiness();
    if (!ready) {
      this.ctx.metrics.appends.inc({ outcome: 'not_ready' });
      throw new NotReadyError(reason);
    }
  }

  /** The append as the writers take it: its topic and partition found (the topic created on a first write). */
  private async place(request: AppendRequest, traceparent: string | undefined): Promise<PreparedAppend> {
    const topic = this.ctx.topics.topicOf(request.stream.category);
    const partitions = await this.ctx.topics.partitionsOf(request.stream.category);
    return {
      stream: request.stream.stream,
      category: request.stream.category,
      topic,
      partition: partitionOf(request.stream.stream, partitions),
      expected: request.expected,
      events: request.events,
      ...(traceparent === undefined ? {} : { traceparent }),
    };
  }

  private enqueue(append: PreparedAppend, deadline: number): Promise<AppendOutcome> {
    return new Promise<AppendOutcome>((resolve, reject) => {
      const item: QueuedAppend = {
        append,
        resolve: (outcome) => {
          item.settled = true;
          resolve(outcome);
        },
        reject: (error) => {
          item.settled = true;
          reject(error);
        },
        deadline,
        attempts: 0,
        maybeWritten: false,
        enqueuedAt: Date.now(),
      };
      this.queue.push(item);
      this.ctx.metrics.queued.set(this.queue.size);
    });
  }

  /** Answer for an append that waited past its deadline. */
  static expired(item: QueuedUnit, notReadyReason?: string): Error {
    if (item.maybeWritten) {
      return new AppendIndeterminateError(
        isAtomic(item) ? (item.atomic[0]?.stream ?? '') : item.append.stream,
        'the guard could not learn in time whether its commit succeeded',
      );
    }
    return new NotReadyError(
      notReadyReason ??
        'the append waited too long for a group commit (stream busy or guard recovering); nothing was written',
    );
  }

  /**
   * A stream's version as Redis knows it: the last committed version (a reservation in flight is not counted).
   * Reads do not create topics: a category never written has no streams.
   */
  async streamVersion(streamParam: string): Promise<{ stream: string; version: number }> {
    const stream = parseStream(streamParam);
    const { version } = await this.locate(stream);
    return { stream: stream.stream, version };
  }

  /** The stream's committed version, its topic, and its partition (undefined while the category has no topic). */
  async locate(stream: StreamName): Promise<{ version: number; topic: string; partition: number | undefined }> {
    if (!this.state.validated) throw new NotReadyError(this.state.reason || 'validating state');
    const topic = this.ctx.topics.topicOf(stream.category);
    const partitions = await this.ctx.topics.existingPartitionsOf(stream.category);
    if (partitions === undefined) return { version: -1, topic, partition: undefined };
    const partition = partitionOf(stream.stream, partitions);
    const pk = this.ctx.keys.partition(topic, partition);
    const [version, lock] = await Promise.all([
      this.ctx.redis.hget(pk.ver, stream.stream),
      this.ctx.redis.hget(pk.lock, stream.stream),
    ]);
    if (lock) return { version: Number(lock.split('|')[1]), topic, partition };
    return { version: version === null ? -1 : Number(version), topic, partition };
  }
}
