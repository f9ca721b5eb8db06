import type { Violation } from './checkTypes.js';
import type { CommittedEvent } from './committedEvents.js';
import { allOf, type MultiIndex } from './eventIdIndex.js';
import type { AppendAttempt } from './history.js';
import { formatPosition, positionOf } from './positions.js';

/** Every event id at most once in Kafka (the detail says when a retry wrote it again: invariant 4). */
export function checkDuplicateIds(
  events: readonly CommittedEvent[],
  eventsById: MultiIndex,
  attempts: readonly AppendAttempt[],
  attemptsById: MultiIndex,
  violations: Violation[],
): void {
  for (const [id, at] of eventsById) {
    if (typeof at === 'number') continue;
    const copies = at.map((i) => events[i]).filter((e): e is CommittedEvent => e !== undefined);
    const second = copies[1];
    if (!second) continue;
    const tries = allOf(attemptsById, id).map((i) => attempts[i]?.outcome.status);
    const why =
      tries.length > 1
        ? `; its append was tried ${tries.length} times (${tries.join(', ')}): a retry wrote it again (invariant 4)`
        : '';
    violations.push({
      invariant: 'duplicate-id',
      stream: second.stream,
      eventIds: [id],
      detail: `event id is in Kafka ${copies.length} times: ${copies.map((e) => `${e.stream} v${e.version} at ${formatPosition(e)}`).join(', ')}${why}`,
      position: positionOf(second),
    });
  }
}
