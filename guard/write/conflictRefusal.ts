import { type KesError, NotReadyError, WrongExpectedVersionError } from '../../pipeline/errors.js';
import type { AppendOutcome } from '../append/appendOutcome.js';
import type { Expected } from '../append/expectedVersion.js';
import type { GuardContext } from '../context.js';
import { decideReadBack, readBackRange } from './conflictReadBack.js';

// Tested by: guard/write/conflictRefusal.int.test.ts (a retry after its ids were forgotten is answered from the log;
// a real conflict stays a conflict); the decisions in conflictReadBack.unit.test.ts.

/** An append the reserve step refused, with the means to answer it. */
export interface Refused {
  append: { stream: string; expected: Expected; events: readonly { id: string; hash: string }[] };
  resolve(outcome: AppendOutcome): void;
  reject(error: unknown): void;
}

/**
 * Carries out a refusal of the reserve step. A wrong expected version that names an exact place (a number, or no
 * stream) is first read back from the log (conflictReadBack.ts): if the events after the expected version are this
 * append's, it is a retry whose ids the window no longer holds, answered as a duplicate. Meanwhile the writer goes
 * on; the append is answered when the read is done. A read that fails answers 503 (not ready, retry): a 409 then
 * could deny a write that happened. Every other refusal is answered at once.
 */
export function carryOutRefusal(
  ctx: GuardContext,
  item: Refused,
  error: KesError,
  metric: string,
  at: { topic: string; partition: number },
): void {
  const { stream, expected, events } = item.append;
  const range =
    error instanceof WrongExpectedVersionError && ctx.locator
      ? readBackRange(expected, error.actual, events.length)
      : undefined;
  if (!range || !ctx.locator) {
    ctx.metrics.appends.inc({ outcome: metric });
    item.reject(error);
    return;
  }
  ctx.locator.locate({ topic: at.topic, partition: at.partition, stream }, range.lo, range.hi).then(
    (read) => {
      const duplicate = decideReadBack(item.append, range, read, at);
      ctx.metrics.appends.inc({ outcome: duplicate ? 'duplicate' : metric });
      if (duplicate) item.resolve(duplicate);
      else item.reject(error);
    },
    (readError: unknown) => {
      ctx.log.warn('conflict read-back failed', { stream, ...range, error: readError });
      ctx.metrics.appends.inc({ outcome: 'not_ready' });
      item.reject(
        readError instanceof NotReadyError
          ? readError
          : new NotReadyError(`stream ${stream}: could not read versions ${range.lo}..${range.hi} back from the log`),
      );
    },
  );
}
