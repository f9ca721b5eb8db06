import { AppendIndeterminateError, NotReadyError } from '../../pipeline/errors.js';
import type { StreamName } from '../../pipeline/events/streamName.js';
import type { EventCatalog } from '../../pipeline/schemas/eventCatalog.js';
import type { AppendOutcome } from '../append/appendOutcome.js';
import { type AppendRequest, parseAppendRequest, parseStream } from '../append/appendRequest.js';
import { attemptDeadline } from '../append/attemptDeadline.js';
import { authorizeWrite, type Principal } from '../append/authority.js';
import type { PreparedEvent } from '../append/preparedAppend.js';
import { prepareEvents } from '../append/prepareEvents.js';
import type { GuardContext } from '../context.js';
import { partitionOf } from '../protocol/partitioner.js';
import type { StateMonitor } from '../recovery/stateMonitor.js';
import type { AppendQueue, QueuedAppend } from './appendQueue.js';
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
    const { ready, reason } = this.readiness();
    if (!ready) {
      this.ctx.metrics.appends.inc({ outcome: 'not_ready' });
      throw new NotReadyError(reason);
    }
    const topic = this.ctx.topics.topicOf(request.stream.category);
    const partitions = await this.ctx.topics.partitionsOf(request.stream.category);
    try {
      return await new Promise<AppendOutcome>((resolve, reject) => {
        const item: QueuedAppend = {
          append: {
            stream: request.stream.stream,
            category: request.stream.category,
            topic,
            partition: partitionOf(request.stream.stream, partitions),
            expected: request.expected,
            events: request.events,
            ...(traceparent === undefined ? {} : { traceparent }),
          },
          resolve: (outcome) => {
            item.settled = true;
            resolve(outcome);
          },
          reject: (error) => {
            item.settled = true;
            reject(error);
          },
          deadline: attemptDeadline(Date.now(), this.ctx.settings.appendTimeoutMs, clientDeadline),
          attempts: 0,
          maybeWritten: false,
          enqueuedAt: Date.now(),
        };
        this.queue.push(item);
        this.ctx.metrics.queued.set(this.queue.size);
      });
    } finally {
      this.ctx.metrics.appendSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  /** Answer for an append that waited past its deadline. */
  static expired(item: QueuedAppend, notReadyReason?: string): Error {
    if (item.maybeWritten) {
      return new AppendIndeterminateError(
        item.append.stream,
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
