import type { Violation } from './checkTypes.js';
import type { CommittedEvent } from './committedEvents.js';
import { allOf, type Lookup, type MultiIndex } from './eventIdIndex.js';
import type { AppendAttempt } from './history.js';
import { formatPosition, positionOf } from './positions.js';
import { answer, describe, list } from './violationText.js';

/** Invariant 3: an append answered conflict or rejected wrote nothing. */

/**
 * Rejections the guard gives before it looks at event ids (authentication, size, validation, not ready) or that
 * are about the ids themselves (event_id_conflict). A retry refused for one of these after its first try was
 * written does not break invariant 3: the refusal says nothing about the write.
 */
export const REJECTIONS_BEFORE_IDEMPOTENCY: readonly number[] = [400, 401, 403, 413, 429, 503];
export const EVENT_ID_CONFLICT = 'event_id_conflict';

export function checkNothingWritten(
  a: AppendAttempt,
  self: number,
  attempts: readonly AppendAttempt[],
  attemptsById: MultiIndex,
  lookup: Lookup,
  windowMs: number,
  violations: Violation[],
): void {
  const o = a.outcome;
  const timingApplies =
    o.status === 'conflict' ||
    (o.status === 'rejected' && o.code !== EVENT_ID_CONFLICT && !REJECTIONS_BEFORE_IDEMPOTENCY.includes(o.httpStatus));
  const unexplained: CommittedEvent[] = [];
  let stale: { event: CommittedEvent; by: AppendAttempt } | undefined;
  for (const id of a.eventIds) {
    const e = lookup(id);
    if (!e) continue;
    const writers = allOf(attemptsById, id)
      .filter((i) => i !== self)
      .map((i) => attempts[i])
      .filter((w): w is AppendAttempt => w?.outcome.status === 'ok' || w?.outcome.status === 'indeterminate');
    if (writers.length === 0) {
      unexplained.push(e);
      continue;
    }
    if (timingApplies && !stale) {
      const by = writers.find((w) => w.endMs < a.startMs && a.startMs - w.endMs <= windowMs);
      if (by) stale = { event: e, by };
    }
  }
  const first = unexplained[0];
  if (first) {
    violations.push({
      invariant: 3,
      stream: a.stream,
      eventIds: unexplained.map((e) => e.eventId),
      detail: `${describe(a)} answered ${answer(a)}, but ${unexplained.length} of ${a.eventIds.length} event(s) are in Kafka and no ok or indeterminate attempt carries them: ${list(unexplained.map((e) => `${e.eventId} at ${formatPosition(e)}`))}`,
      position: positionOf(first),
    });
  }
  if (stale) {
    const { event, by } = stale;
    if (event.timeMs !== undefined && event.timeMs > a.endMs) {
      // Not a retry that missed its first write: the first attempt was still queued in a guard when its retry was
      // refused, and was written afterwards although its client had given up on it (issue 12).
      violations.push({
        invariant: 3,
        stream: a.stream,
        eventIds: [...a.eventIds],
        detail: `${describe(a)} answered ${answer(a)}, but its events were written after the refusal, by an abandoned attempt: ${describe(by)} (${by.outcome.status}, given up ${a.startMs - by.endMs} ms before the retry began) committed them ${event.timeMs - a.endMs} ms after the refusal was answered (${event.eventId} at ${formatPosition(event)})`,
        position: positionOf(event),
      });
      return;
    }
    violations.push({
      invariant: 3,
      stream: a.stream,
      eventIds: [...a.eventIds],
      detail: `${describe(a)} answered ${answer(a)}, but ${describe(by)} (${by.outcome.status}) had ended ${a.startMs - by.endMs} ms before it began and its events are committed (${event.eventId} at ${formatPosition(event)}): the retry should have been answered from idempotency`,
      position: positionOf(event),
    });
  }
}
