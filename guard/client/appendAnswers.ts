import {
  AppendIndeterminateError,
  type KesError,
  NotReadyError,
  WrongExpectedVersionError,
} from '../../pipeline/errors.js';
import { errorFromAnswer } from '../append/errorAnswers.js';
import type { AppendResult, AttemptReport } from './appendTypes.js';
import type { Verdict } from './retryLoop.js';

/**
 * What one append's answer means, whether it came alone (`POST /streams/:stream/events`) or as one result of a
 * batch (`POST /appends`): the line for the history log and the retry loop's verdict. Pure.
 */

/** One append's answer: the guard's status and body, or no answer at all (network failure, timeout, garbage). */
export type ItemAnswer =
  | { kind: 'answered'; status: number; body: Record<string, unknown>; retryAfter?: string | undefined }
  | { kind: 'lost'; reason: string; message: string };

export interface ItemMeaning {
  outcome: AttemptReport['outcome'];
  verdict: Verdict<AppendResult>;
}

export function meaningOf(answer: ItemAnswer, stream: string): ItemMeaning {
  if (answer.kind === 'lost') {
    // The request may have reached the guard: the outcome is unknown, a retry with the same ids is safe.
    return {
      outcome: { status: 'indeterminate', reason: answer.reason },
      verdict: { kind: 'retry', error: new AppendIndeterminateError(stream, answer.message), guardDown: true },
    };
  }
  if (answer.status === 200) {
    const result = resultOf(answer.body);
    return { outcome: { status: 'ok', result }, verdict: { kind: 'done', value: result } };
  }
  const error = errorFromAnswer(answer, stream);
  const code = String(answer.body.error ?? 'unknown');
  if (error instanceof WrongExpectedVersionError) {
    return { outcome: { status: 'conflict', actual: error.actual }, verdict: { kind: 'fail', error } };
  }
  if (error instanceof AppendIndeterminateError) {
    return {
      outcome: { status: 'indeterminate', reason: 'outcome_unknown' },
      verdict: { kind: 'retry', error, guardDown: false },
    };
  }
  const outcome: AttemptReport['outcome'] = { status: 'rejected', httpStatus: answer.status, code };
  if (error instanceof NotReadyError) return { outcome, verdict: { kind: 'retry', error, guardDown: true } };
  return { outcome, verdict: { kind: 'fail', error } };
}

/** The written append of a 200 answer, without the batch result's `status`. */
export function resultOf(body: Record<string, unknown>): AppendResult {
  return {
    stream: String(body.stream),
    firstVersion: Number(body.firstVersion),
    lastVersion: Number(body.lastVersion),
    topic: String(body.topic),
    partition: Number(body.partition),
    offset: Number(body.offset),
    ...(body.duplicate === true ? { duplicate: true } : {}),
  };
}

/** The error an append's answer stands for (`batch_aborted` included); undefined for a 200. */
export function errorOf(answer: ItemAnswer, stream: string): KesError | undefined {
  if (answer.kind === 'lost') return new AppendIndeterminateError(stream, answer.message);
  return answer.status === 200 ? undefined : errorFromAnswer(answer, stream);
}

/** Why a request got no answer, for the history log (the error's name, as the client has always logged it). */
export function lostAnswer(error: unknown): ItemAnswer {
  return {
    kind: 'lost',
    reason: error instanceof Error ? error.name : 'network',
    message: error instanceof Error ? error.message : String(error),
  };
}
