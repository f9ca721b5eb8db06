import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { AppendIndeterminateError, NotReadyError } from '../../pipeline/errors.js';
import { ATTEMPT_DEADLINE_HEADER } from '../append/attemptDeadline.js';
import { errorFromAnswer, type ReceivedAnswer } from '../append/errorAnswers.js';
import type { CommandResult } from '../commands/commandResult.js';
import { type ItemAnswer, lostAnswer } from './appendAnswers.js';
import type { CoalesceOptions } from './appendTypes.js';
import { BatchCoalescer } from './batchCoalescer.js';
import { splitAnswer } from './batchResults.js';
import { type CoalescePolicy, coalescePolicy } from './coalescePlan.js';
import { GuardPool } from './guardPool.js';
import { type JsonAnswer, requestJson } from './httpJson.js';
import { retryLoop, type Verdict } from './retryLoop.js';

/**
 * The typed client of the guard's commands. Concurrent `send` calls to one guard go as one `POST /commands` (a
 * linger of at most 1 ms or 256 pending, as GuardClient's appends; `coalesce: false` sends each alone to
 * `POST /commands/{category}/{id}`); each call gets its own answer. Every command carries a command id (the caller's, or one
 * made here once), so retrying after a lost answer, a timeout, a 503 or "outcome unknown" is answered from the first
 * write instead of applying the command twice. Definite answers are thrown at once as typed errors: a rejection
 * (CommandRejectedError, 422), a conflict that outlived the guard's retries (CommandConflictError, 409), a version
 * other than the one expected (WrongExpectedVersionError, 409), a bad command (InvalidRequestError, 400).
 */
export interface SendOptions {
  commandId?: string;
  expectedVersion?: number;
}

export interface CommandClientOptions {
  url: string | readonly string[];
  /** Share one pool among clients so that a guard found dead by one is skipped by all (see GuardPool). */
  pool?: GuardPool;
  /** Which guard of the pool this client tries first. @default 0 */
  preferred?: number;
  apiKey: string;
  /** Per-request timeout. @default 10000 */
  timeoutMs?: number;
  /** Attempts for answers that may change on retry (timeouts, 503, 500 outcome_unknown, network). @default 10 */
  maxAttempts?: number;
  /** Concurrent commands sent as batch requests; `false` sends each alone. @default { lingerMs: 1, maxAppends: 256 } */
  coalesce?: CoalesceOptions | false;
  /** Kept-alive connections to use. @default one agent shared by the clients of this process */
  agent?: http.Agent;
}

export class CommandClient {
  private readonly pool: GuardPool;
  /** Where every call starts; a failed attempt moves only that call's retries on (see GuardClient's `home`). */
  private readonly home: number;

  private readonly timeoutMs: number;
  private readonly coalescing: boolean;
  private readonly policy: CoalescePolicy;
  private readonly coalescers = new Map<string, BatchCoalescer>();
  /** Guards that answered 404 to `POST /commands` (an older kes): each command alone from then on. */
  private readonly noBatchRoute = new Set<string>();

  constructor(private readonly options: CommandClientOptions) {
    this.pool = options.pool ?? new GuardPool(options.url);
    this.home = options.preferred ?? 0;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.coalescing = options.coalesce !== false;
    this.policy = coalescePolicy(options.coalesce === false ? {} : options.coalesce);
  }

  async send(
    category: string,
    id: string,
    type: string,
    data: unknown,
    options: SendOptions = {},
  ): Promise<CommandResult> {
    const stream = `${category}-${id}`;
    const command = {
      type,
      data,
      commandId: options.commandId ?? randomUUID(),
      ...(options.expectedVersion === undefined ? {} : { expectedVersion: options.expectedVersion }),
    };
    const item = JSON.stringify({ category, id, ...command });
    const single = JSON.stringify(command);
    const path = `/commands/${encodeURIComponent(category)}/${encodeURIComponent(id)}`;
    const plan = { pool: this.pool, home: this.home, maxAttempts: this.options.maxAttempts ?? 10 };
    return retryLoop(
      plan,
      async (url): Promise<Verdict<CommandResult>> => {
        const answer =
          this.coalescing && !this.noBatchRoute.has(url)
            ? await this.coalescerOf(url).submit(item)
            : await this.post(`${url}${path}`, single);
        return verdictOf(answer, stream);
      },
      () => new AppendIndeterminateError(stream, 'no attempt made'),
    );
  }

  private coalescerOf(url: string): BatchCoalescer {
    let coalescer = this.coalescers.get(url);
    if (!coalescer) {
      coalescer = new BatchCoalescer(this.policy, (items) => this.sendBatch(url, items));
      this.coalescers.set(url, coalescer);
    }
    return coalescer;
  }

  private async sendBatch(url: string, items: readonly string[]): Promise<ItemAnswer[]> {
    const answer = await this.post(`${url}/commands`, `{"commands":[${items.join(',')}]}`);
    if (answer.kind === 'answered' && answer.status === 404 && !('results' in answer.body)) {
      this.noBatchRoute.add(url);
      return Promise.all(
        items.map((json) => {
          const { category, id, ...command } = JSON.parse(json) as { category: string; id: string };
          return this.post(
            `${url}/commands/${encodeURIComponent(category)}/${encodeURIComponent(id)}`,
            JSON.stringify(command),
          );
        }),
      );
    }
    return splitAnswer(answer, items.length);
  }

  /** One request; never throws: no answer is an answer ('lost'). */
  private async post(url: string, body: string): Promise<ItemAnswer> {
    try {
      const answer = await requestJson(url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.options.apiKey}`,
          // Given up at the timeout: the guard must not write this attempt after its retry was answered.
          [ATTEMPT_DEADLINE_HEADER]: String(Date.now() + this.timeoutMs),
        },
        body,
        timeoutMs: this.timeoutMs,
        ...(this.options.agent === undefined ? {} : { agent: this.options.agent }),
      });
      return { kind: 'answered', status: answer.status, body: answer.json, retryAfter: answer.headers['retry-after'] };
    } catch (error) {
      return lostAnswer(error);
    }
  }

  /** The stream's state as its module folds it, and the version it is exact at. */
  async state<S>(category: string, id: string): Promise<{ stream: string; version: number; state: S }> {
    const stream = `${category}-${id}`;
    const url = this.pool.pick(this.home);
    let answer: JsonAnswer;
    try {
      answer = await requestJson(`${url}/commands/${encodeURIComponent(category)}/${encodeURIComponent(id)}`, {
        method: 'GET',
        headers: { authorization: `Bearer ${this.options.apiKey}` },
        timeoutMs: this.options.timeoutMs ?? 10_000,
      });
    } catch (error) {
      this.pool.markDown(url);
      throw new NotReadyError(`guard at ${url} did not answer: ${(error as Error).message}`);
    }
    if (answer.status === 200) return answer.json as unknown as { stream: string; version: number; state: S };
    throw errorFromAnswer(received(answer), stream);
  }
}

/** What one command's answer means for the retry loop: alone or as one result of a batch. */
function verdictOf(answer: ItemAnswer, stream: string): Verdict<CommandResult> {
  if (answer.kind === 'lost') {
    // The request may have reached the guard: the outcome is unknown, a retry with the same command id is safe.
    return { kind: 'retry', error: new AppendIndeterminateError(stream, answer.message), guardDown: true };
  }
  if (answer.status === 200) {
    const { status: _, ...result } = answer.body;
    return { kind: 'done', value: result as unknown as CommandResult };
  }
  const error = errorFromAnswer(answer, stream);
  if (error instanceof NotReadyError) return { kind: 'retry', error, guardDown: true };
  if (error instanceof AppendIndeterminateError) return { kind: 'retry', error, guardDown: false };
  return { kind: 'fail', error };
}

function received(answer: JsonAnswer): ReceivedAnswer {
  return { status: answer.status, body: answer.json, retryAfter: answer.headers['retry-after'] };
}
