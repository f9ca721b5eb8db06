import { type Expected, matchesExpectedVersion } from '../../guard/append/expectedVersion.js';
import type { Violation } from './checkTypes.js';
import type { CommittedEvent } from './committedEvents.js';
import { allOf, type Lookup, type MultiIndex } from './eventIdIndex.js';
import type { AppendAttempt } from './history.js';
import { formatPosition, samePosition } from './positions.js';
import { describe, list } from './violationText.js';

/** Invariant 2: an append answered ok is in Kafka, at the versions and position of the answer. */
export function checkOk(
  a: AppendAttempt,
  attempts: readonly AppendAttempt[],
  attemptsById: MultiIndex,
  lookup: Lookup,
  violations: Violation[],
): void {
  const o = a.outcome;
  if (o.status !== 'ok' || a.eventIds.length === 0) return;
  const n = a.eventIds.length;
  const problems: string[] = [];
  if (o.lastVersion - o.firstVersion + 1 !== n) {
    problems.push(`the answer spans versions ${o.firstVersion}..${o.lastVersion} for ${n} event(s)`);
  }
  // The compare-and-swap: the versions answered follow from the expected version of this request, or of another
  // attempt with the same ids (a retry is answered from the first write, whatever it expected).
  const siblings = allOf(attemptsById, a.eventIds[0] ?? '').map((i) => attempts[i]);
  if (!siblings.some((s) => s !== undefined && honours(s.expectedVersion, o.firstVersion))) {
    problems.push(`first version ${o.firstVersion} does not follow from expected version ${a.expectedVersion}`);
  }
  const missing: string[] = [];
  let previous: CommittedEvent | undefined;
  a.eventIds.forEach((id, i) => {
    const e = lookup(id);
    if (!e) {
      missing.push(id);
      return;
    }
    if (e.stream !== a.stream) problems.push(`${id} is in stream ${e.stream}`);
    if (e.version !== o.firstVersion + i)
      problems.push(`${id} is at version ${e.version}, answered ${o.firstVersion + i}`);
    if (previous && (e.topic !== previous.topic || e.partition !== previous.partition || e.offset <= previous.offset)) {
      problems.push(`${id} at ${formatPosition(e)} does not follow the append's previous event`);
    }
    if (i === n - 1 && !samePosition(e, o)) {
      problems.push(`last event ${id} is at ${formatPosition(e)}, answered ${formatPosition(o)}`);
    }
    previous = e;
  });
  if (missing.length > 0) problems.unshift(`${missing.length} of ${n} event(s) not in Kafka: ${list(missing)}`);
  if (problems.length === 0) return;
  violations.push({
    invariant: 2,
    stream: a.stream,
    eventIds: [...a.eventIds],
    detail: `${describe(a)} answered ok at versions ${o.firstVersion}..${o.lastVersion}, ${formatPosition(o)}: ${list(problems, '; ')}`,
    position: { topic: o.topic, partition: o.partition, offset: o.offset },
  });
}

/** Whether an append whose first event got `first` honours `expected`. */
export function honours(expected: Expected, first: number): boolean {
  // The guard decided on the version before the append: one below its first event's.
  return matchesExpectedVersion(expected, first - 1);
}
