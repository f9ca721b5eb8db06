import type { KesError } from '../../pipeline/errors.js';
import type { GuardPool } from './guardPool.js';

/**
 * The one retry loop of the clients (appends, batches, reads, commands). An attempt says what its answer means:
 * done, a final error (a definite answer: conflict, bad request, forbidden), or an error a retry may change
 * (timeout, cut connection, 503, 500 outcome_unknown). Retries keep what makes them safe (the same event ids, the
 * same command id) because the attempt function is the same closure every time; only the guard may change.
 */
export type Verdict<T> =
  | { kind: 'done'; value: T }
  | { kind: 'fail'; error: KesError }
  /** `guardDown`: the guard did not answer or is not ready: skip it (for every client of the pool) and go on. */
  | { kind: 'retry'; error: KesError; guardDown: boolean };

export interface RetryPlan {
  pool: GuardPool;
  /** Where every call starts; a failed attempt moves only this call's retries on. */
  home: number;
  maxAttempts: number;
  /** Once aborted, no further attempt starts (the first always does). */
  signal?: AbortSignal | undefined;
  /** Waits between attempts. @default backoff */
  pause?: (attempt: number) => Promise<void>;
}

export async function retryLoop<T>(
  plan: RetryPlan,
  attemptAt: (url: string, attempt: number) => Promise<Verdict<T>>,
  noAttempt: () => KesError,
): Promise<T> {
  const pause = plan.pause ?? backoff;
  let lastError: KesError | undefined;
  let away = 0;
  for (let attempt = 1; attempt <= plan.maxAttempts && !(attempt > 1 && plan.signal?.aborted); attempt++) {
    const url = plan.pool.pick(plan.home + away);
    const verdict = await attemptAt(url, attempt);
    if (verdict.kind === 'retry' && verdict.guardDown) {
      plan.pool.markDown(url);
      away++;
    } else plan.pool.markUp(url);
    if (verdict.kind === 'done') return verdict.value;
    if (verdict.kind === 'fail') throw verdict.error;
    lastError = verdict.error;
    if (attempt < plan.maxAttempts) await pause(attempt);
  }
  throw lastError ?? noAttempt();
}

/** Jittered exponential backoff between a client's attempts (25 ms doubling, capped at 1 s). */
export function backoff(attempt: number): Promise<void> {
  const ms = Math.min(1_000, 25 * 2 ** attempt) * (0.5 + Math.random() / 2);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
