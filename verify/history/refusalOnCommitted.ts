import type { Violation } from './checkTypes.js';
import type { CommittedEvent } from './committedEvents.js';
import type { AppendAttempt } from './history.js';
import { formatPosition, positionOf } from './positions.js';
import { answer, describe } from './violationText.js';

/**
 * Invariant 6: a definite refusal is decided on committed, settled state. A 409 wrong_expected_version names the
 * version the guard saw (`actual`); that version must be in Kafka, and must have been written before the refusal
 * was answered. A refusal about a version that was only reserved (by a group whose transaction then failed, say)
 * names a version that is never committed, or committed later by another append: the client was told "someone
 * else wrote there" when nobody had (issue 12).
 *
 * The time part compares the record's kes-time (the guard's clock when its group was sent, before the commit) with
 * the client's clock when the answer arrived; it assumes those clocks agree to within the time an append takes,
 * as the abandoned-attempt rule of refusedWroteNothing.ts does. Records without kes-time are checked for existence
 * only; `actual` -1 (the stream did not exist) names no version and is not checked.
 */

/** Each stream's committed events by version (the first at each version: duplicates are invariant 1's). */
export type VersionIndex = ReadonlyMap<string, ReadonlyMap<number, CommittedEvent>>;

export function indexVersions(events: readonly CommittedEvent[]): VersionIndex {
  const streams = new Map<string, Map<number, CommittedEvent>>();
  for (const e of events) {
    let versions = streams.get(e.stream);
    if (!versions) {
      versions = new Map();
      streams.set(e.stream, versions);
    }
    if (!versions.has(e.version)) versions.set(e.version, e);
  }
  return streams;
}

export function checkRefusalOnCommitted(a: AppendAttempt, versions: VersionIndex, violations: Violation[]): void {
  const o = a.outcome;
  if (o.status !== 'conflict' || o.actual < 0) return;
  const stream = versions.get(a.stream);
  const named = stream?.get(o.actual);
  if (!named) {
    const last = stream ? Math.max(...stream.keys()) : -1;
    violations.push({
      invariant: 6,
      stream: a.stream,
      eventIds: [...a.eventIds],
      detail: `${describe(a)} answered ${answer(a)}, but version ${o.actual} of the stream was never committed (${last < 0 ? 'the stream has no committed event' : `its last committed version is ${last}`}): the refusal was decided on versions that were reserved, not written`,
    });
    return;
  }
  if (named.timeMs !== undefined && named.timeMs > a.endMs) {
    violations.push({
      invariant: 6,
      stream: a.stream,
      eventIds: [...a.eventIds],
      detail: `${describe(a)} answered ${answer(a)}, but version ${o.actual} was written ${named.timeMs - a.endMs} ms after the refusal was answered (${named.eventId} at ${formatPosition(named)}): the refusal was decided on a reservation, not on committed state`,
      position: positionOf(named),
    });
  }
}
