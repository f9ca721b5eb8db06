import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { AppendIndeterminateError, KesError, NotReadyError } from '../../pipeline/errors.js';
import { errorFromAnswer } from '../append/errorAnswers.js';
import type { Expected } from '../append/expectedVersion.js';
import type { ReadAnswer } from '../read/readAnswer.js';
import type { Direction } from '../read/readPage.js';
import { type ItemAnswer, meaningOf } from './appendAnswers.js';
import { type AppendTransport, postAppend, postAppends } from './appendTransport.js';
import type {
  AppendItem,
  AppendManyResult,
  AppendResult,
  AttemptReport,
  CoalesceOptions,
  NewEvent,
} from './appendTypes.js';
import { BatchCoalescer } from './batchCoalescer.js';
import { atomicVerdict, splitAnswer } from './batchResults.js';
import { type CoalescePolicy, coalescePolicy } from './coalescePlan.js';
import { GuardPool } from './guardPool.js';
import { requestJson } from './httpJson.js';
import { type RetryPlan, retryLoop, type Verdict } from './retryLoop.js';

/**
 * The typed client of the guard. Every event gets an id once (or keeps the caller's), so that retrying an append
 * whose answer was lost, timed out or came back "outcome unknown" is safe: the guard answers a retry from the first
 * write. Definite answers (conflict, bad request, forbidden) are final and thrown at once as typed errors.
 *
 * Concurrent `appendToStream` calls to one guard go as batch requests (`POST /appends`, see CoalesceOptions); each
 * call still gets its own result or typed error, and a retry re-joins the next batch on its own with the same ids.
 * `appendMany` sends an explicit batch (per-item results), `appendAtomically` an atomic one (all or nothing).
 */
export type * from './appendTypes.js';

export interface GuardClientOptions {
  /** One guard, or several: a retry after a network failure or a 503 goes to the next one. */
  url: string | readonly string[];
  /**
   * Share one pool among clients (a workload's workers, a service's handlers) so that a guard found dead by one is
   * skipped by all (see GuardPool). @default a pool of `url` of this client's own
   */
  pool?: GuardPool;
  /** Which guard of the pool this client tries first (spreads clients over guards). @default 0 */
  preferred?: number;
  apiKey: string;
  /** Per-request timeout. @default 10000 */
  timeoutMs?: number;
  /** Attempts for answers that may change on retry (timeouts, 503, 500 outcome_unknown, network). @default 8 */
  maxAttempts?: number;
  /** Concurrent appends sent as batch requests; `false` sends each alone. @default { lingerMs: 1, maxAppends: 256 } */
  coalesce?: CoalesceOptions | false;
  /** Kept-alive connections to use. @default one agent shared by the clients of this process (256 sockets) */
  agent?: http.Agent;
  /** Called after every attempt, with what it answered (the history log of `kes check` is written from this). */
  onAttempt?: (attempt: AttemptReport) => void;
}

/** Per call: the expected version of `appendToStream`, a signal that stops retries, and a report of its own. */
export interface AppendCallOptions {
  signal?: AbortSignal;
  /** Called after every attempt of this call, besides the client's `onAttempt`. */
  onAttempt?: (attempt: AttemptReport) => void;
}

interface Prepared {
  stream: string;
  expectedVersion: Expected;
  eventIds: string[];
  /** The item as it goes into a batch body, serialised once. */
  json: string;
  /** The body of a single append. */
  single: () => string;
}

export class GuardClient {
  private readonly pool: GuardPool;
  /**
   * The guard this client tries first on every call. A failed attempt moves only that call's retries on; the next
   * call starts at home again, and the pool decides whether home is still skipped. (Moving the client itself on, as
   * it once did, left every client on the survivor of any fault for good: the soak found it.)
   */
  private readonly home: number;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly transport: AppendTransport;
  /** Off: appendToStream sends alone; appendMany still sends batches, of this policy without the linger. */
  private readonly coalescing: boolean;
  private readonly policy: CoalescePolicy;
  private readonly coalescers = new Map<string, BatchCoalescer>();
  /** Guards that answered 404 to `POST /appends` (see sendBatch). */
  private readonly noBatchRoute = new Set<string>();

  constructor(private readonly options: GuardClientOptions) {
    this.pool = options.pool ?? new GuardPool(options.url);
    this.home = options.preferred ?? 0;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxAttempts = options.maxAttempts ?? 8;
    this.transport = { apiKey: options.apiKey, timeoutMs: this.timeoutMs, agent: options.agent };
    this.coalescing = options.coalesce !== false;
    this.policy = coalescePolicy(options.coalesce === false ? {} : options.coalesce);
  }

  async appendToStream(
    stream: string,
    events: readonly NewEvent[],
    options: { expectedVersion: Expected } & AppendCallOptions,
  ): Promise<AppendResult> {
    const item = prepare({ stream, events, expectedVersion: options.expectedVersion });
    return this.coalescing ? this.appendItem(item, options, false) : this.appendAlone(item, options);
  }

  /**
   * An explicit batch of independent appends, sent together (in requests of at most `maxAppends`): each is written
   * or refused on its own, and each gets its own result or typed error, never thrown. Items whose outcome may change
   * on retry are retried on their own, with the same ids; definite answers are final.
   */
  async appendMany(items: readonly AppendItem[], options: AppendCallOptions = {}): Promise<AppendManyResult[]> {
    return Promise.all(
      items.map(prepare).map((item) =>
        this.appendItem(item, options, true).then(
          (result): AppendManyResult => ({ ok: true, stream: item.stream, result }),
          (error: unknown): AppendManyResult => {
            if (error instanceof KesError) return { ok: false, stream: item.stream, error };
            throw error; // a programming error, not an answer
          },
        ),
      ),
    );
  }

  /**
   * Appends to several streams in one Kafka transaction: all written (the results, in order) or none (an
   * AtomicAppendError with every item's outcome, the first failing item's error as its cause). Each stream at most
   * once. Retried whole, with the same ids, while the answer may change (503, outcome unknown, no answer).
   */
  async appendAtomically(items: readonly AppendItem[], options: AppendCallOptions = {}): Promise<AppendResult[]> {
    const prepared = items.map(prepare);
    const streams = prepared.map((p) => p.stream);
    const group = randomUUID();
    return retryLoop(
      this.plan(options.signal),
      async (url, attempt): Promise<Verdict<AppendResult[]>> => {
        const startMs = Date.now();
        const answers = splitAnswer(
          await postAppends(
            this.transport,
            url,
            prepared.map((p) => p.json),
            true,
          ),
          prepared.length,
        );
        prepared.forEach((p, i) => {
          const { outcome } = meaningOf(answers[i] as ItemAnswer, p.stream);
          this.report(options, p, attempt, startMs, outcome, group);
        });
        return atomicVerdict(streams, answers);
      },
      () => new AppendIndeterminateError(streams.join(', '), 'no attempt made'),
    );
  }

  /** One append through this guard's coalescer: alone in the retry loop, together with others on the wire. */
  private appendItem(item: Prepared, options: AppendCallOptions, explicit: boolean): Promise<AppendResult> {
    return retryLoop(
      this.plan(options.signal),
      async (url, attempt) => {
        const startMs = Date.now();
        const answer = await this.coalescerOf(url).submit(item.json, { sendSoon: explicit || !this.coalescing });
        return this.judge(item, answer, options, attempt, startMs);
      },
      () => new AppendIndeterminateError(item.stream, 'no attempt made'),
    );
  }

  private appendAlone(item: Prepared, options: AppendCallOptions): Promise<AppendResult> {
    const body = item.single();
    return retryLoop(
      this.plan(options.signal),
      async (url, attempt) => {
        const startMs = Date.now();
        const answer = await postAppend(this.transport, url, item.stream, body);
        return this.judge(item, answer, options, attempt, startMs);
      },
      () => new AppendIndeterminateError(item.stream, 'no attempt made'),
    );
  }

  private judge(
    item: Prepared,
    answer: ItemAnswer,
    options: AppendCallOptions,
    attempt: number,
    startMs: number,
  ): Verdict<AppendResult> {
    const { outcome, verdict } = meaningOf(answer, item.stream);
    this.report(options, item, attempt, startMs, outcome);
    return verdict;
  }

  private report(
    options: AppendCallOptions,
    item: Prepared,
    attempt: number,
    startMs: number,
    outcome: AttemptReport['outcome'],
    atomicGroup?: string,
  ): void {
    if (!this.options.onAttempt && !options.onAttempt) return;
    const report: AttemptReport = {
      stream: item.stream,
      expectedVersion: item.expectedVersion,
      eventIds: item.eventIds,
      attempt,
      startMs,
      endMs: Date.now(),
      ...(atomicGroup === undefined ? {} : { atomicGroup }),
      outcome,
    };
    this.options.onAttempt?.(report);
    options.onAttempt?.(report);
  }

  private coalescerOf(url: string): BatchCoalescer {
    let coalescer = this.coalescers.get(url);
    if (!coalescer) {
      coalescer = new BatchCoalescer(this.policy, (itemsJson) => this.sendBatch(url, itemsJson));
      this.coalescers.set(url, coalescer);
    }
    return coalescer;
  }

  /**
   * A batch request; to a guard without `POST /appends` (an older kes: 404), each item alone, from then on. The
   * fallback keeps rolling upgrades working; atomic batches have no such fallback.
   */
  private async sendBatch(url: string, itemsJson: readonly string[]): Promise<ItemAnswer[]> {
    if (!this.noBatchRoute.has(url)) {
      const answer = await postAppends(this.transport, url, itemsJson, false);
      if (!(answer.kind === 'answered' && answer.status === 404 && !('results' in answer.body))) {
        return splitAnswer(answer, itemsJson.length);
      }
      this.noBatchRoute.add(url);
    }
    return Promise.all(
      itemsJson.map((json) => {
        const { stream, ...single } = JSON.parse(json) as { stream: string };
        return postAppend(this.transport, url, stream, JSON.stringify(single));
      }),
    );
  }

  private plan(signal: AbortSignal | undefined): RetryPlan {
    return { pool: this.pool, home: this.home, maxAttempts: this.maxAttempts, signal };
  }

  /**
   * A page of a stream's events, exact at the guard's committed version: an append answered before the call is in
   * it. Page on with `nextVersion` until it is null. Reads change nothing, so a network failure or a 503 is retried
   * (on the next guard); other answers throw their typed errors (400 InvalidRequestError naming the parameter, 401,
   * 403 ForbiddenError).
   */
  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<ReadAnswer> {
    const query = new URLSearchParams();
    if (options.fromVersion !== undefined) query.set('fromVersion', String(options.fromVersion));
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    if (options.direction !== undefined) query.set('direction', options.direction);
    const path = `/streams/${encodeURIComponent(stream)}/events${query.size > 0 ? `?${query}` : ''}`;
    return retryLoop(
      this.plan(options.signal),
      async (url): Promise<Verdict<ReadAnswer>> => {
        let answer: Awaited<ReturnType<typeof requestJson>>;
        try {
          answer = await this.get(`${url}${path}`);
        } catch (error) {
          const reason = `no answer from ${url}: ${error instanceof Error ? error.message : String(error)}`;
          return { kind: 'retry', error: new NotReadyError(reason), guardDown: true };
        }
        if (answer.status === 200) return { kind: 'done', value: answer.json as unknown as ReadAnswer };
        const error = errorFromAnswer(
          { status: answer.status, body: answer.json, retryAfter: answer.headers['retry-after'] },
          stream,
        );
        return error instanceof NotReadyError ? { kind: 'retry', error, guardDown: true } : { kind: 'fail', error };
      },
      () => new NotReadyError('no attempt made'),
    );
  }

  async streamVersion(stream: string): Promise<number> {
    const answer = await this.get(`${this.pool.pick(this.home)}/streams/${encodeURIComponent(stream)}`);
    if (answer.status !== 200) {
      throw errorFromAnswer(
        { status: answer.status, body: answer.json, retryAfter: answer.headers['retry-after'] },
        stream,
      );
    }
    return Number(answer.json.version);
  }

  private get(url: string) {
    return requestJson(url, {
      method: 'GET',
      headers: { authorization: `Bearer ${this.options.apiKey}` },
      timeoutMs: this.timeoutMs,
      ...(this.options.agent === undefined ? {} : { agent: this.options.agent }),
    });
  }
}

/** Ids given once, here: every retry of the append carries the same ones. */
function prepare(item: AppendItem): Prepared {
  const events = item.events.map((e) => ({ ...e, id: e.id ?? randomUUID() }));
  return {
    stream: item.stream,
    expectedVersion: item.expectedVersion,
    eventIds: events.map((e) => e.id),
    json: JSON.stringify({ stream: item.stream, expectedVersion: item.expectedVersion, events }),
    single: () => JSON.stringify({ expectedVersion: item.expectedVersion, events }),
  };
}

/** What `readStream` asks: a page of at most `limit` events from `fromVersion`, in `direction`. */
export interface ReadStreamOptions {
  /** First version of the page (forwards), or its last (backwards). @default the stream's start, or its end backwards */
  fromVersion?: number;
  /** At most this many events (1 to 1000). @default 100 */
  limit?: number;
  /** @default 'forwards' */
  direction?: Direction;
  signal?: AbortSignal;
}

export type { ReadAnswer, ReadEvent } from '../read/readAnswer.js';
