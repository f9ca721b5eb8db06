import type { Violation } from './checkTypes.js';
import type { CommittedEvent } from './committedEvents.js';
import type { Lookup } from './eventIdIndex.js';
import type { AppendAttempt } from './history.js';
import { formatPosition, positionOf } from './positions.js';
import { describe, list } from './violationText.js';

/** Invariant 4: an indeterminate append is in Kafka once or not at all. Returns whether its events are in Kafka. */
export function checkIndeterminate(a: AppendAttempt, lookup: Lookup, violations: Violation[]): boolean {
  const found = a.eventIds.map((id) => lookup(id));
  const present = found.filter((e): e is CommittedEvent => e !== undefined);
  const first = present[0];
  if (!first) return false;
  const problems: string[] = [];
  if (present.length < found.length) {
    const missing = a.eventIds.filter((_, i) => found[i] === undefined);
    problems.push(`only ${present.length} of ${found.length} event(s) are in Kafka (missing: ${list(missing)})`);
  }
  present.forEach((e, i) => {
    if (e.stream !== a.stream) problems.push(`${e.eventId} is in stream ${e.stream}`);
    const previous = present[i - 1];
    if (!previous) return;
    if (e.version !== previous.version + 1) {
      problems.push(`${e.eventId} is at version ${e.version} after version ${previous.version}`);
    }
    if (e.topic !== previous.topic || e.partition !== previous.partition || e.offset <= previous.offset) {
      problems.push(`${e.eventId} at ${formatPosition(e)} does not follow ${formatPosition(previous)}`);
    }
  });
  if (problems.length > 0) {
    violations.push({
      invariant: 4,
      stream: a.stream,
      eventIds: [...a.eventIds],
      detail: `${describe(a)} ended indeterminate (${a.outcome.status === 'indeterminate' ? a.outcome.reason : ''}): ${list(problems, '; ')}`,
      position: positionOf(first),
    });
  }
  return present.length === found.length;
}
