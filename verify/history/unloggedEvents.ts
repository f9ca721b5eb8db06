import type { CheckOptions, Violation } from './checkTypes.js';
import type { CommittedEvent, ForeignRecord } from './committedEvents.js';
import type { MultiIndex } from './eventIdIndex.js';
import { formatPosition, positionOf } from './positions.js';
import { list } from './violationText.js';

/** Committed events no attempt logged (one violation per stream); returns how many there are. */
export function checkUnlogged(
  events: readonly CommittedEvent[],
  attemptsById: MultiIndex,
  options: CheckOptions,
  violations: Violation[],
): number {
  const byStream = new Map<string, CommittedEvent[]>();
  let count = 0;
  for (const e of events) {
    if (attemptsById.has(e.eventId)) continue;
    count++;
    if (options.allowUnlogged) continue;
    const list = byStream.get(e.stream);
    if (list) list.push(e);
    else byStream.set(e.stream, [e]);
  }
  for (const [stream, unlogged] of byStream) {
    const first = unlogged[0];
    if (!first) continue;
    violations.push({
      invariant: 'unlogged',
      stream,
      eventIds: unlogged.map((e) => e.eventId),
      detail: `${unlogged.length} committed event(s) no attempt logged: ${list(unlogged.map((e) => `${e.eventId} v${e.version} at ${formatPosition(e)}`))}`,
      position: positionOf(first),
    });
  }
  return count;
}

/** Records without kes headers, one violation per partition. */
export function reportForeign(foreign: readonly ForeignRecord[], violations: Violation[]): void {
  const byPartition = new Map<string, ForeignRecord[]>();
  for (const r of foreign) {
    const k = `${r.topic}[${r.partition}]`;
    const list = byPartition.get(k);
    if (list) list.push(r);
    else byPartition.set(k, [r]);
  }
  for (const records of byPartition.values()) {
    const first = records[0];
    if (!first) continue;
    violations.push({
      invariant: 'unlogged',
      detail: `${records.length} record(s) without kes headers: ${list(records.map((r) => `${formatPosition(r)} (${r.reason})`))}`,
      position: positionOf(first),
    });
  }
}
