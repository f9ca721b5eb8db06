import type { KesError } from '../../pipeline/errors.js';
import { type AppendAnswer, type AppendOutcome, appendAnswer } from './appendOutcome.js';
import { errorAnswer } from './errorAnswers.js';

/**
 * The answer to `POST /appends`: one result per item in request order, each with its own `status` and the body a
 * single append would have had (docs/guard.md "Batches").
 */
export type BatchItemAnswer = ({ status: 200 } & AppendAnswer) | ({ status: number } & Record<string, unknown>);

export interface BatchAnswer {
  /** 200 unless an atomic batch was not written: then the status of its first failing item. */
  status: number;
  results: BatchItemAnswer[];
}

export type ItemOutcome = { ok: true; outcome: AppendOutcome } | { ok: false; error: unknown };

export function itemAnswer(item: ItemOutcome): BatchItemAnswer {
  if (item.ok) return { status: 200, ...appendAnswer(item.outcome) };
  const { status, body } = errorAnswer(item.error);
  return { status, ...body };
}

/** Non-atomic: each item stands alone, and the request itself succeeded. */
export function independentAnswer(items: readonly ItemOutcome[]): BatchAnswer {
  return { status: 200, results: items.map(itemAnswer) };
}

export const BATCH_ABORTED = {
  status: 409,
  error: 'batch_aborted',
  message: 'not written: another append of this atomic batch failed',
} as const;

/**
 * An atomic batch that was not written: each item that failed on its own gets its error, every other item
 * `batch_aborted`; the request's status is that of the first failing item.
 */
export function atomicRefusal(errors: readonly (KesError | unknown | undefined)[]): BatchAnswer {
  let status = 0;
  const results = Array.from(errors, (error): BatchItemAnswer => {
    if (error === undefined) return { ...BATCH_ABORTED };
    const answer = itemAnswer({ ok: false, error });
    if (status === 0) status = answer.status;
    return answer;
  });
  return { status: status || BATCH_ABORTED.status, results };
}
