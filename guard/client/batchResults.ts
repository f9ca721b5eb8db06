import { AtomicAppendError, type BatchItemOutcome, NotReadyError } from '../../pipeline/errors.js';
import { errorOf, type ItemAnswer, resultOf } from './appendAnswers.js';
import type { AppendResult } from './appendTypes.js';
import type { Verdict } from './retryLoop.js';

/**
 * How the answer to one `POST /appends` splits into its items' answers, and what an atomic batch's answers mean.
 * Pure, unit-tested in batchResults.unit.test.ts.
 */

/** The answer to a whole batch request, as the transport got it. */
export type BatchAnswer =
  | { kind: 'answered'; status: number; body: Record<string, unknown>; retryAfter?: string | undefined }
  | { kind: 'lost'; reason: string; message: string };

/**
 * One answer per item, in request order. A batch the guard answered item by item (200, or an atomic batch's
 * failure) gives each item its own result; a whole-request failure (400 on the top level, 401, 413, 503) is every
 * item's answer; no answer, or one that does not fit the request, leaves every item's outcome unknown.
 */
export function splitAnswer(answer: BatchAnswer, items: number): ItemAnswer[] {
  if (answer.kind === 'lost') return Array.from({ length: items }, () => answer);
  const results = answer.body.results;
  if (Array.isArray(results)) {
    if (results.length !== items || !results.every(isResult)) {
      const lost: ItemAnswer = {
        kind: 'lost',
        reason: 'malformed_batch_answer',
        message: `the guard answered ${results.length} result(s) to ${items} append(s)`,
      };
      return Array.from({ length: items }, () => lost);
    }
    return results.map((r) => ({ kind: 'answered', status: r.status, body: r, retryAfter: answer.retryAfter }));
  }
  if (answer.status === 200) {
    const lost: ItemAnswer = { kind: 'lost', reason: 'malformed_batch_answer', message: 'a 200 without results' };
    return Array.from({ length: items }, () => lost);
  }
  return Array.from({ length: items }, () => ({ ...answer }));
}

function isResult(r: unknown): r is Record<string, unknown> & { status: number } {
  return typeof r === 'object' && r !== null && typeof (r as { status?: unknown }).status === 'number';
}

/**
 * What an atomic batch's answers mean. All written: done. A definite refusal of any item (409, 400, 403, 413):
 * nothing was written and a retry cannot change that, so it fails with every item's outcome, the first refused
 * item's error as the cause. Otherwise (503, 500 outcome_unknown, no answer) the whole batch is retried with the
 * same ids: a batch whose outcome was unknown is answered from its first write.
 */
export function atomicVerdict(
  streams: readonly string[],
  answers: readonly ItemAnswer[],
): Verdict<AppendResult[]> & { outcomes: BatchItemOutcome<AppendResult>[] } {
  const outcomes = answers.map((a, i): BatchItemOutcome<AppendResult> => {
    const stream = streams[i] as string;
    const error = errorOf(a, stream);
    return error ? { stream, error } : { stream, result: resultOf((a as { body: Record<string, unknown> }).body) };
  });
  if (outcomes.every((o) => o.error === undefined)) {
    return { kind: 'done', value: outcomes.map((o) => o.result as AppendResult), outcomes };
  }
  const failing = outcomes
    .map((o, i) => ({ o, i }))
    .filter(({ o, i }) => o.error !== undefined && !isBatchAborted(answers[i]));
  const definite = failing.find(({ o }) => !o.error?.retriable);
  // Every item "batch_aborted" and none failing would be a guard bug; treat it as the first item refused.
  const first = definite ?? failing[0] ?? { o: outcomes[0] as BatchItemOutcome<AppendResult>, i: 0 };
  const error = new AtomicAppendError(outcomes, first.i);
  if (definite || failing.length === 0) return { kind: 'fail', error, outcomes };
  const guardDown = failing.some(({ i }) => answers[i]?.kind === 'lost' || isNotReady(outcomes[i]));
  return { kind: 'retry', error, guardDown, outcomes };
}

export function isBatchAborted(answer: ItemAnswer | undefined): boolean {
  return answer?.kind === 'answered' && answer.status === 409 && answer.body.error === BATCH_ABORTED;
}

export const BATCH_ABORTED = 'batch_aborted';

function isNotReady(outcome: BatchItemOutcome<AppendResult> | undefined): boolean {
  return outcome?.error instanceof NotReadyError;
}
