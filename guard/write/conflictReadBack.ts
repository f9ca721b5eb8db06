import type { AppendOutcome } from '../append/appendOutcome.js';
import type { Expected } from '../append/expectedVersion.js';
import type { LocatedEvent } from '../read/streamReader.js';

/**
 * The event-store way to keep retries of exact-version appends idempotent past the idempotency window: an append
 * that expected version `e` (or no stream, -1) and meets a stream already beyond it either conflicts for real, or
 * is a retry of an append that was written at e+1..e+n. The log says which: read versions e+1..e+n, and when their
 * ids and content hashes are the append's, in order, answer from that write as a duplicate. Needs no memory, so it
 * holds for as long as the log keeps the stream. `any` and `stream_exists` name no place to look: past the window a
 * retry of those may be written again (docs/guard.md).
 *
 * The decisions are pure (here); conflictRefusal.ts does the reading. Tested by conflictReadBack.unit.test.ts.
 */

/** Versions to read for a conflicting append, or undefined when no read can make it a duplicate. */
export function readBackRange(
  expected: Expected,
  actual: number,
  events: number,
): { lo: number; hi: number } | undefined {
  const base = expected === 'no_stream' ? -1 : typeof expected === 'number' ? expected : undefined;
  // The stream must hold all n versions after the expected one: one append is written whole or not at all.
  if (base === undefined || events < 1 || actual < base + events) return undefined;
  return { lo: base + 1, hi: base + events };
}

/**
 * The duplicate answer when the events read at `range` are the append's (same ids, same content, in order), else
 * undefined: the conflict stands.
 */
export function decideReadBack(
  append: { stream: string; events: readonly { id: string; hash: string }[] },
  range: { lo: number; hi: number },
  read: readonly LocatedEvent[],
  at: { topic: string; partition: number },
): AppendOutcome | undefined {
  const n = append.events.length;
  if (n === 0 || read.length !== n || range.hi - range.lo + 1 !== n) return undefined;
  for (let i = 0; i < n; i++) {
    const r = read[i] as LocatedEvent;
    const e = append.events[i] as { id: string; hash: string };
    if (r.version !== range.lo + i || r.id !== e.id || r.hash !== e.hash) return undefined;
  }
  return {
    stream: append.stream,
    firstVersion: range.lo,
    lastVersion: range.hi,
    topic: at.topic,
    partition: at.partition,
    offset: (read[n - 1] as LocatedEvent).offset,
    duplicate: true,
  };
}
