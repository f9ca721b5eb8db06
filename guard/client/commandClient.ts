import { randomUUID } from 'node:crypto';
import { AppendIndeterminateError, NotReadyError } from '../../pipeline/errors.js';
import { ATTEMPT_DEADLINE_HEADER } from '../append/attemptDeadline.js';
import { errorFromAnswer, type ReceivedAnswer } from '../append/errorAnswers.js';
import type { CommandResult } from '../commands/commandResult.js';
import { GuardPool } from './guardPool.js';
import { type JsonAnswer, requestJson } from './httpJson.js';
import { retryLoop, type Verdict } from './retryLoop.js';

/**
 * The typed client of `POST /commands/{category}/{id}`. Every command carries a command id (the caller's, or one
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
}

export class CommandClient {
  private readonly pool: GuardPool;
  /** Where every call starts; a failed attempt moves only that call's retries on (see GuardClient's `home`). */
  private readonly home: number;

  constructor(private readonly options: CommandClientOptions) {
    this.pool = options.pool ?? new GuardPool(options.url);
    this.home = options.preferred ?? 0;
  }

  async send(
    category: string,
    id: string,
    type: string,
    data: unknown,
    options: SendOptions = {},
  ): Promise<CommandResult> {
    const stream = `${category}-${id}`;
    const body = JSON.stringify({
      type,
      data,
      commandId: options.commandId ?? randomUUID(),
      ...(options.expectedVersion === undefined ? {} : { expectedVersion: options.expectedVersion }),
    });
    const timeoutMs = this.options.timeoutMs ?? 10_000;
    const plan = { pool: this.pool, home: this.home, maxAttempts: this.options.maxAttempts ?? 10 };
    return retryLoop(
      plan,
      async (url): Promise<Verdict<CommandResult>> => {
        let answer: JsonAnswer;
        try {
          answer = await requestJson(`${url}/commands/${encodeURIComponent(category)}/${encodeURIComponent(id)}`, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${this.options.apiKey}`,
              // Given up at the timeout: the guard must not write this attempt after its retry was answered.
              [ATTEMPT_DEADLINE_HEADER]: String(Date.now() + timeoutMs),
            },
            body,
            timeoutMs,
          });
        } catch (error) {
          // The request may have reached the guard: the outcome is unknown, a retry with the same command id is safe.
          const reason = error instanceof Error ? error.message : String(error);
          return { kind: 'retry', error: new AppendIndeterminateError(stream, reason, error), guardDown: true };
        }
        if (answer.status === 200) return { kind: 'done', value: answer.json as unknown as CommandResult };
        const error = errorFromAnswer(received(answer), stream);
        if (error instanceof NotReadyError) return { kind: 'retry', error, guardDown: true };
        if (error instanceof AppendIndeterminateError) return { kind: 'retry', error, guardDown: false };
        return { kind: 'fail', error };
      },
      () => new AppendIndeterminateError(stream, 'no attempt made'),
    );
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

function received(answer: JsonAnswer): ReceivedAnswer {
  return { status: answer.status, body: answer.json, retryAfter: answer.headers['retry-after'] };
}
