import { randomUUID } from 'node:crypto';
import {
  AppendIndeterminateError,
  type KesError,
  NotReadyError,
  WrongExpectedVersionError,
} from '../../pipeline/errors.js';
import type { AppendOutcome } from '../append/appendOutcome.js';
import { ATTEMPT_DEADLINE_HEADER } from '../append/attemptDeadline.js';
import { errorFromAnswer } from '../append/errorAnswers.js';
import type { Expected } from '../append/expectedVersion.js';
import type { ReadAnswer } from '../read/readAnswer.js';
import type { Direction } from '../read/readPage.js';
import { GuardPool } from './guardPool.js';

/**
 * The typed client of the guard. `appendToStream` gives every event an id once (or keeps the caller's), so that
 * retrying an append whose answer was lost, timed out or came back "outcome unknown" is safe: the guard answers a
 * retry from the first write. Definite answers (conflict, bad request, forbidden) are thrown at once as typed errors.
 */
export interface NewEvent {
  id?: string;
  type: string;
  data: unknown;
  metadata?: Record<string, unknown>;
}

/** What the guard answers for a written append (the same shape the guard produces). */
export type AppendResult = Omit<AppendOutcome, 'duplicate'> & {
  /** The guard answered from an earlier write of the same ids. */
  duplicate?: boolean;
};

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
  /** Called after every attempt, with what it answered (the history log of `kes check` is written from this). */
  onAttempt?: (attempt: AttemptReport) => void;
}

export interface AttemptReport {
  stream: string;
  expectedVersion: Expected;
  eventIds: string[];
  attempt: number;
  startMs: number;
  endMs: number;
  outcome:
    | { status: 'ok'; result: AppendResult }
    | { status: 'conflict'; actual: number }
    | { status: 'rejected'; httpStatus: number; code: string }
    | { status: 'indeterminate'; reason: string };
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

  constructor(private readonly options: GuardClientOptions) {
    this.pool = options.pool ?? new GuardPool(options.url);
    this.home = options.preferred ?? 0;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxAttempts = options.maxAttempts ?? 8;
  }

  async appendToStream(
    stream: string,
    events: readonly NewEvent[],
    options: { expectedVersion: Expected; signal?: AbortSignal },
  ): Promise<AppendResult> {
    const withIds = events.map((e) => ({ ...e, id: e.id ?? randomUUID() }));
    const body = JSON.stringify({ expectedVersion: options.expectedVersion, events: withIds });
    const eventIds = withIds.map((e) => e.id);
    let lastError: KesError | undefined;
    let away = 0;
    for (let attempt = 1; attempt <= this.maxAttempts && !(attempt > 1 && options.signal?.aborted); attempt++) {
      const startMs = Date.now();
      const report = (outcome: AttemptReport['outcome']) =>
        this.options.onAttempt?.({
          stream,
          expectedVersion: options.expectedVersion,
          eventIds,
          attempt,
          startMs,
          endMs: Date.now(),
          outcome,
        });
      let response: Response;
      let json: Record<string, unknown>;
      const url = this.urlAt(away);
      try {
        response = await fetch(`${url}/streams/${encodeURIComponent(stream)}/events`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${this.options.apiKey}`,
            // The attempt is given up at the timeout; the guard must not reserve it after that, or it could be
            // written after the retry below was answered.
            [ATTEMPT_DEADLINE_HEADER]: String(startMs + this.timeoutMs),
          },
          body,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        json = (await response.json()) as Record<string, unknown>;
      } catch (error) {
        // The request may have reached the guard: the outcome is unknown, a retry with the same ids is safe.
        report({ status: 'indeterminate', reason: error instanceof Error ? error.name : 'network' });
        this.pool.markDown(url);
        away++;
        lastError = new AppendIndeterminateError(stream, error instanceof Error ? error.message : String(error), error);
        await backoff(attempt);
        continue;
      }
      this.pool.markUp(url);
      if (response.status === 200) {
        const result = json as unknown as AppendResult;
        report({ status: 'ok', result });
        return result;
      }
      const error = errorFromAnswer(
        { status: response.status, body: json, retryAfter: response.headers.get('retry-after') },
        stream,
      );
      if (error instanceof WrongExpectedVersionError) {
        report({ status: 'conflict', actual: error.actual });
        throw error;
      }
      if (error instanceof AppendIndeterminateError) {
        report({ status: 'indeterminate', reason: 'outcome_unknown' });
        lastError = error;
        await backoff(attempt);
        continue;
      }
      report({ status: 'rejected', httpStatus: response.status, code: String(json.error ?? 'unknown') });
      if (error instanceof NotReadyError) {
        this.pool.markDown(url);
        away++;
        lastError = error;
        await backoff(attempt);
        continue;
      }
      throw error;
    }
    throw lastError ?? new AppendIndeterminateError(stream, 'no attempt made');
  }

  private get url(): string {
    return this.pool.pick(this.home);
  }

  /** The guard for a call's attempt after `away` failed ones: home, or the next ones the pool does not skip. */
  private urlAt(away: number): string {
    return this.pool.pick(this.home + away);
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
    let lastError: KesError | undefined;
    let away = 0;
    for (let attempt = 1; attempt <= this.maxAttempts && !(attempt > 1 && options.signal?.aborted); attempt++) {
      const url = this.urlAt(away);
      let response: Response;
      let json: Record<string, unknown>;
      try {
        response = await fetch(`${url}${path}`, {
          headers: { authorization: `Bearer ${this.options.apiKey}` },
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        json = (await response.json()) as Record<string, unknown>;
      } catch (error) {
        this.pool.markDown(url);
        away++;
        lastError = new NotReadyError(
          `no answer from ${url}: ${error instanceof Error ? error.message : String(error)}`,
        );
        await backoff(attempt);
        continue;
      }
      this.pool.markUp(url);
      if (response.status === 200) return json as unknown as ReadAnswer;
      const error = errorFromAnswer(
        { status: response.status, body: json, retryAfter: response.headers.get('retry-after') },
        stream,
      );
      if (!(error instanceof NotReadyError)) throw error;
      this.pool.markDown(url);
      away++;
      lastError = error;
      await backoff(attempt);
    }
    throw lastError ?? new NotReadyError('no attempt made');
  }

  async streamVersion(stream: string): Promise<number> {
    const response = await fetch(`${this.url}/streams/${encodeURIComponent(stream)}`, {
      headers: { authorization: `Bearer ${this.options.apiKey}` },
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const json = (await response.json()) as Record<string, unknown>;
    if (!response.ok) {
      throw errorFromAnswer(
        { status: response.status, body: json, retryAfter: response.headers.get('retry-after') },
        stream,
      );
    }
    return Number(json.version);
  }
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

/** Jittered exponential backoff between a client's attempts (25 ms doubling, capped at 1 s). */
export function backoff(attempt: number): Promise<void> {
  const ms = Math.min(1_000, 25 * 2 ** attempt) * (0.5 + Math.random() / 2);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
