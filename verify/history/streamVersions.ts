import type { Violation } from './checkTypes.js';
import type { CommittedEvent } from './committedEvents.js';
import { positionOf } from './positions.js';

/** Invariant 1: per stream, versions 0, 1, 2, … in offset order, one partition. */

interface StreamState {
  topic: string;
  partition: number;
  next: number;
  /** Versions seen so far; built at the stream's first anomaly only (before it, they are exactly 0..next-1). */
  seen?: Set<number>;
  /** Partitions beyond the first, with the first event found there. */
  elsewhere?: Map<string, CommittedEvent>;
}

export function checkVersions(events: readonly CommittedEvent[], violations: Violation[]): void {
  const streams = new Map<string, StreamState>();
  const order: string[] = [];
  for (const e of events) {
    let s = streams.get(e.stream);
    if (!s) {
      s = { topic: e.topic, partition: e.partition, next: 0 };
      streams.set(e.stream, s);
      order.push(e.stream);
    }
    if (e.topic !== s.topic || e.partition !== s.partition) {
      s.elsewhere ??= new Map();
      const where = `${e.topic}[${e.partition}]`;
      if (!s.elsewhere.has(where)) s.elsewhere.set(where, e);
    }
    if (e.version === s.next) {
      s.seen?.add(e.version);
      s.next++;
      continue;
    }
    if (!s.seen) s.seen = new Set(Array.from({ length: s.next }, (_, v) => v));
    const previous = s.next - 1;
    let detail: string;
    if (e.version > s.next) {
      detail = `version ${e.version} follows version ${previous} (expected ${s.next}): a gap`;
    } else if (s.seen.has(e.version)) {
      detail = `version ${e.version} is repeated (it follows version ${previous})`;
    } else {
      detail = `version ${e.version} is out of order (it follows version ${previous})`;
    }
    violations.push({ invariant: 1, stream: e.stream, eventIds: [e.eventId], detail, position: positionOf(e) });
    s.seen.add(e.version);
    s.next = Math.max(s.next, e.version + 1);
  }
  for (const stream of order) {
    const s = streams.get(stream);
    if (!s?.elsewhere) continue;
    const first = [...s.elsewhere.values()][0];
    const where = [`${s.topic}[${s.partition}]`, ...s.elsewhere.keys()];
    violations.push({
      invariant: 1,
      stream,
      detail: `stream is in ${where.length} partitions: ${where.join(', ')}`,
      ...(first ? { position: positionOf(first) } : {}),
    });
  }
}
