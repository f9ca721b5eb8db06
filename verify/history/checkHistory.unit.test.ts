import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Expected } from '../../guard/append/expectedVersion.js';
import { honours } from './answeredOk.js';
import { checkHistory } from './checkHistory.js';
import type { CheckResult, ViolationKind } from './checkTypes.js';
import type { CommittedEvent } from './committedEvents.js';
import type { AppendAttempt, AttemptOutcome } from './history.js';

const T = 'k.acct';

function ev(
  stream: string,
  version: number,
  eventId: string,
  offset: number,
  partition = 0,
  topic = T,
): CommittedEvent {
  return { topic, partition, offset, stream, version, eventId, type: 'Opened' };
}

function attempt(
  stream: string,
  eventIds: string[],
  outcome: AttemptOutcome,
  extra: Partial<AppendAttempt> = {},
): AppendAttempt {
  return {
    op: 'append',
    client: 'c1',
    stream,
    expectedVersion: 'any',
    eventIds,
    attempt: 1,
    startMs: 100,
    endMs: 110,
    outcome,
    ...extra,
  };
}

const ok = (firstVersion: number, lastVersion: number, offset: number, partition = 0, topic = T): AttemptOutcome => ({
  status: 'ok',
  firstVersion,
  lastVersion,
  topic,
  partition,
  offset,
});
const conflict = (actual: number): AttemptOutcome => ({ status: 'conflict', actual });
const rejected = (httpStatus: number, code: string): AttemptOutcome => ({ status: 'rejected', httpStatus, code });
const indeterminate = (reason = 'timeout'): AttemptOutcome => ({ status: 'indeterminate', reason });

const kinds = (r: CheckResult): ViolationKind[] => r.violations.map((v) => v.invariant);

describe('checkHistory: clean histories', () => {
  it('accepts a history with every kind of outcome', () => {
    const committed = [
      ev('acct-1', 0, 'a1', 0),
      ev('acct-1', 1, 'a2', 1),
      // offset 2: a commit marker; 3-4: an aborted transaction the reader never sees; 5: its marker
      ev('acct-2', 0, 'b1', 6),
      ev('acct-1', 2, 'c1', 8), // written by an indeterminate attempt, answered ok on retry
      ev('acct-1', 3, 'e1', 10),
      ev('acct-1', 4, 'e2', 11),
    ];
    const attempts = [
      attempt('acct-1', ['a1', 'a2'], ok(0, 1, 1), { expectedVersion: 'no_stream' }),
      attempt('acct-2', ['b1'], ok(0, 0, 6), { expectedVersion: -1 }),
      attempt('acct-1', ['x1'], conflict(1), { expectedVersion: 0, client: 'c2' }),
      attempt('acct-1', ['c1'], indeterminate(), { expectedVersion: 1, startMs: 200, endMs: 5200 }),
      attempt('acct-1', ['c1'], ok(2, 2, 8), { expectedVersion: 1, attempt: 2, startMs: 5300, endMs: 5310 }),
      attempt('acct-1', ['d1'], indeterminate('connection reset'), { expectedVersion: 2 }),
      attempt('acct-1', ['bad'], rejected(400, 'invalid_event')),
      attempt('acct-1', ['e1', 'e2'], ok(3, 4, 11), { expectedVersion: 'stream_exists' }),
    ];
    const r = checkHistory(attempts, committed);
    expect(r.violations).toEqual([]);
    expect(r.summary).toMatchObject({
      attempts: 8,
      outcomes: { ok: 4, conflict: 1, rejected: 1, indeterminate: 2 },
      logicalAppends: 7,
      indeterminateWritten: 1,
      indeterminateNotWritten: 1,
      streamsInHistory: 2,
      streamsInKafka: 2,
      committedEvents: 6,
      topics: 1,
      partitions: 1,
      unloggedEvents: 0,
      violations: 0,
    });
  });

  it('sorts committed events that are not in offset order', () => {
    const committed = [ev('acct-1', 1, 'a2', 1), ev('acct-1', 0, 'a1', 0)];
    const r = checkHistory([attempt('acct-1', ['a1', 'a2'], ok(0, 1, 1))], committed);
    expect(r.violations).toEqual([]);
  });

  it('accepts a conflict retried with the same ids and written later', () => {
    const committed = [ev('acct-1', 0, 'a1', 0), ev('acct-1', 1, 'b1', 2)];
    const attempts = [
      attempt('acct-1', ['a1'], ok(0, 0, 0), { startMs: 0, endMs: 10, expectedVersion: 'no_stream' }),
      attempt('acct-1', ['b1'], conflict(0), { startMs: 5, endMs: 15, expectedVersion: 'no_stream', client: 'c2' }),
      attempt('acct-1', ['b1'], ok(1, 1, 2), { startMs: 20, endMs: 30, expectedVersion: 0, client: 'c2', attempt: 2 }),
    ];
    expect(checkHistory(attempts, committed).violations).toEqual([]);
  });
});

describe('invariant 1: versions 0, 1, 2, … per stream, one partition', () => {
  const logged = (committed: CommittedEvent[]) =>
    committed.map((e) => attempt(e.stream, [e.eventId], indeterminate(), { expectedVersion: 'any' }));

  it('reports a gap', () => {
    const committed = [ev('acct-1', 0, 'a', 0), ev('acct-1', 2, 'b', 1)];
    const r = checkHistory(logged(committed), committed);
    expect(kinds(r)).toEqual([1]);
    expect(r.violations[0]).toMatchObject({
      stream: 'acct-1',
      eventIds: ['b'],
      position: { topic: T, partition: 0, offset: 1 },
    });
    expect(r.violations[0]?.detail).toContain('gap');
  });

  it('reports a stream that does not start at 0', () => {
    const committed = [ev('acct-1', 1, 'a', 0)];
    expect(kinds(checkHistory(logged(committed), committed))).toEqual([1]);
  });

  it('reports a repeated version', () => {
    const committed = [ev('acct-1', 0, 'a', 0), ev('acct-1', 1, 'b', 1), ev('acct-1', 1, 'c', 2)];
    const r = checkHistory(logged(committed), committed);
    expect(kinds(r)).toEqual([1]);
    expect(r.violations[0]?.detail).toContain('version 1 is repeated');
    expect(r.violations[0]?.position?.offset).toBe(2);
  });

  it('reports versions out of offset order', () => {
    const committed = [ev('acct-1', 0, 'a', 0), ev('acct-1', 2, 'c', 1), ev('acct-1', 1, 'b', 2)];
    const r = checkHistory(logged(committed), committed);
    expect(kinds(r)).toEqual([1, 1]);
    expect(r.violations[1]?.detail).toContain('out of order');
  });

  it('reports a stream in two partitions', () => {
    const committed = [ev('acct-1', 0, 'a', 0, 0), ev('acct-1', 1, 'b', 0, 1)];
    const r = checkHistory(logged(committed), committed);
    expect(kinds(r)).toEqual([1]);
    expect(r.violations[0]?.detail).toBe(`stream is in 2 partitions: ${T}[0], ${T}[1]`);
  });

  it('keeps streams apart', () => {
    const committed = [ev('acct-1', 0, 'a', 0), ev('acct-2', 0, 'b', 1), ev('acct-1', 1, 'c', 2)];
    expect(checkHistory(logged(committed), committed).violations).toEqual([]);
  });
});

describe('invariant 2: an append answered ok is where the answer said', () => {
  const committed = [ev('acct-1', 0, 'a1', 0), ev('acct-1', 1, 'a2', 1), ev('acct-2', 0, 'b1', 2)];
  const others = [attempt('acct-2', ['b1'], ok(0, 0, 2))];

  it('reports an ok append that is not in Kafka', () => {
    const r = checkHistory(
      [attempt('acct-1', ['a1', 'a2'], ok(0, 1, 1)), ...others, attempt('acct-1', ['z1'], ok(2, 2, 3))],
      committed,
    );
    expect(kinds(r)).toEqual([2]);
    expect(r.violations[0]).toMatchObject({ stream: 'acct-1', eventIds: ['z1'] });
    expect(r.violations[0]?.detail).toContain('1 of 1 event(s) not in Kafka: z1');
  });

  it('reports a partly written ok append', () => {
    const r = checkHistory([attempt('acct-1', ['a1', 'a2', 'a3'], ok(0, 2, 3)), ...others], committed);
    expect(kinds(r)).toEqual([2]);
    expect(r.violations[0]?.detail).toContain('1 of 3 event(s) not in Kafka: a3');
  });

  it('reports other versions than answered', () => {
    const r = checkHistory([attempt('acct-1', ['a1', 'a2'], ok(1, 2, 1)), ...others], committed);
    expect(kinds(r)).toEqual([2]);
    expect(r.violations[0]?.detail).toContain('a1 is at version 0, answered 1');
  });

  it('reports another position than answered', () => {
    const r = checkHistory([attempt('acct-1', ['a1', 'a2'], ok(0, 1, 7)), ...others], committed);
    expect(kinds(r)).toEqual([2]);
    expect(r.violations[0]?.detail).toContain(`last event a2 is at ${T}[0]@1, answered ${T}[0]@7`);
    const p = checkHistory([attempt('acct-1', ['a1', 'a2'], ok(0, 1, 1, 3)), ...others], committed);
    expect(kinds(p)).toEqual([2]);
  });

  it('reports events in another stream than the append', () => {
    const r = checkHistory(
      [attempt('acct-1', ['a1', 'a2'], ok(0, 1, 1)), attempt('acct-3', ['b1'], ok(0, 0, 2))],
      [...committed],
    );
    expect(kinds(r)).toEqual([2]);
    expect(r.violations[0]?.detail).toContain('b1 is in stream acct-2');
  });

  it('reports an answer whose versions do not span its events', () => {
    const r = checkHistory([attempt('acct-1', ['a1', 'a2'], ok(0, 2, 1)), ...others], committed);
    expect(kinds(r)).toEqual([2]);
    expect(r.violations[0]?.detail).toContain('spans versions 0..2 for 2 event(s)');
  });

  it('reports an answer that ignored the expected version (the compare-and-swap)', () => {
    const r = checkHistory(
      [attempt('acct-1', ['a1', 'a2'], ok(0, 1, 1), { expectedVersion: 4 }), ...others],
      committed,
    );
    expect(kinds(r)).toEqual([2]);
    expect(r.violations[0]?.detail).toContain('does not follow from expected version 4');
  });

  it('accepts an idempotent answer to a retry that expected something else', () => {
    const r = checkHistory(
      [
        attempt('acct-1', ['a1', 'a2'], indeterminate(), { expectedVersion: 'no_stream' }),
        attempt('acct-1', ['a1', 'a2'], ok(0, 1, 1), { expectedVersion: 1, attempt: 2 }),
        ...others,
      ],
      committed,
    );
    expect(r.violations).toEqual([]);
  });

  it('knows what each expected version allows', () => {
    expect(honours('any', 7)).toBe(true);
    expect(honours('no_stream', 0)).toBe(true);
    expect(honours('no_stream', 1)).toBe(false);
    expect(honours('stream_exists', 0)).toBe(false);
    expect(honours('stream_exists', 3)).toBe(true);
    expect(honours(-1, 0)).toBe(true);
    expect(honours(2, 3)).toBe(true);
    expect(honours(2, 2)).toBe(false);
  });
});

describe('invariant 3: an append answered conflict or rejected wrote nothing', () => {
  const committed = [ev('acct-1', 0, 'a1', 0), ev('acct-1', 1, 'b1', 2)];
  const first = attempt('acct-1', ['a1'], ok(0, 0, 0), { startMs: 0, endMs: 10 });

  it('reports a conflict whose events are in Kafka', () => {
    const r = checkHistory(
      [first, attempt('acct-1', ['b1'], conflict(0), { expectedVersion: 'no_stream' })],
      committed,
    );
    expect(kinds(r)).toEqual([3]);
    expect(r.violations[0]).toMatchObject({ stream: 'acct-1', eventIds: ['b1'], position: { offset: 2 } });
    expect(r.violations[0]?.detail).toContain('answered conflict (actual 0)');
  });

  it('reports a rejection whose events are in Kafka', () => {
    const r = checkHistory([first, attempt('acct-1', ['b1'], rejected(403, 'forbidden'))], committed);
    expect(kinds(r)).toEqual([3]);
    expect(r.violations[0]?.detail).toContain('rejected (403 forbidden)');
  });

  it('accepts a conflict whose ids a concurrent retry wrote', () => {
    const r = checkHistory(
      [
        first,
        attempt('acct-1', ['b1'], indeterminate(), { startMs: 20, endMs: 60 }),
        attempt('acct-1', ['b1'], conflict(1), { startMs: 50, endMs: 55, attempt: 2, expectedVersion: 0 }),
      ],
      committed,
    );
    expect(r.violations).toEqual([]);
  });

  it('reports a conflict answered to a retry after the write had ended', () => {
    const r = checkHistory(
      [
        first,
        attempt('acct-1', ['b1'], indeterminate(), { startMs: 20, endMs: 60, expectedVersion: 0 }),
        attempt('acct-1', ['b1'], conflict(1), { startMs: 70, endMs: 75, attempt: 2, expectedVersion: 0 }),
      ],
      committed,
    );
    expect(kinds(r)).toEqual([3]);
    expect(r.violations[0]?.detail).toContain('had ended 10 ms before it began');
    expect(r.violations[0]?.detail).toContain('answered from idempotency');
  });

  it('tells a write after the refusal, by an abandoned attempt, from a retry that missed its first write (issue 12)', () => {
    // b1's first attempt ended (its client gave up) at 60 and the retry was refused at 75; the guard still held
    // the first attempt and committed it at 90.
    const late = [ev('acct-1', 0, 'a1', 0), { ...ev('acct-1', 1, 'b1', 2), timeMs: 90 }];
    const r = checkHistory(
      [
        first,
        attempt('acct-1', ['b1'], indeterminate(), { startMs: 20, endMs: 60, expectedVersion: 0 }),
        attempt('acct-1', ['b1'], conflict(1), { startMs: 70, endMs: 75, attempt: 2, expectedVersion: 0 }),
      ],
      late,
    );
    // and the version the refusal named was itself written only after it (invariant 6)
    expect(kinds(r)).toEqual([3, 6]);
    expect(r.violations[0]?.detail).toContain('written after the refusal, by an abandoned attempt');
    expect(r.violations[0]?.detail).toContain('committed them 15 ms after the refusal was answered');
    expect(r.violations[1]?.detail).toContain('version 1 was written 15 ms after the refusal was answered');
    // written before the refusal: the retry should have been answered from it, as before
    const early = [ev('acct-1', 0, 'a1', 0), { ...ev('acct-1', 1, 'b1', 2), timeMs: 50 }];
    const r2 = checkHistory(
      [
        first,
        attempt('acct-1', ['b1'], indeterminate(), { startMs: 20, endMs: 60, expectedVersion: 0 }),
        attempt('acct-1', ['b1'], conflict(1), { startMs: 70, endMs: 75, attempt: 2, expectedVersion: 0 }),
      ],
      early,
    );
    expect(r2.violations[0]?.detail).toContain('answered from idempotency');
  });

  it('allows the refusal once the idempotency window has passed', () => {
    const attempts = [
      first,
      attempt('acct-1', ['b1'], ok(1, 1, 2), { startMs: 20, endMs: 60, expectedVersion: 0 }),
      attempt('acct-1', ['b1'], conflict(1), { startMs: 70_000, endMs: 70_005, attempt: 2, expectedVersion: 0 }),
    ];
    expect(kinds(checkHistory(attempts, committed))).toEqual([3]);
    expect(checkHistory(attempts, committed, { idempotencyWindowMs: 60_000 }).violations).toEqual([]);
  });

  it('accepts refusals made before the guard looks at ids, and event id conflicts', () => {
    const written = attempt('acct-1', ['b1'], ok(1, 1, 2), { startMs: 20, endMs: 60, expectedVersion: 0 });
    for (const outcome of [
      rejected(503, 'not_ready'),
      rejected(401, 'unauthorized'),
      rejected(413, 'too_large'),
      rejected(400, 'invalid_event'),
      rejected(409, 'event_id_conflict'),
    ]) {
      const r = checkHistory(
        [first, written, attempt('acct-1', ['b1'], outcome, { startMs: 70, endMs: 75 })],
        committed,
      );
      expect(r.violations).toEqual([]);
    }
    const other = checkHistory(
      [first, written, attempt('acct-1', ['b1'], rejected(409, 'stream_deleted'), { startMs: 70, endMs: 75 })],
      committed,
    );
    expect(kinds(other)).toEqual([3]);
  });

  it('accepts a conflict whose events are not in Kafka', () => {
    const r = checkHistory(
      [first, attempt('acct-1', ['zz'], conflict(0)), attempt('acct-1', ['b1'], ok(1, 1, 2))],
      [...committed],
    );
    expect(r.violations).toEqual([]);
  });
});

describe('invariant 6: a refusal names a version committed before it was answered', () => {
  const first = attempt('acct-1', ['a1'], ok(0, 0, 0), { startMs: 0, endMs: 10 });
  const refused = (actual: number, endMs = 110) =>
    attempt('acct-1', ['x1'], conflict(actual), { startMs: 100, endMs, expectedVersion: 'no_stream', client: 'c2' });

  it('accepts a conflict on a version written before the answer, or without a record time', () => {
    expect(checkHistory([first, refused(0)], [{ ...ev('acct-1', 0, 'a1', 0), timeMs: 5 }]).violations).toEqual([]);
    expect(checkHistory([first, refused(0)], [ev('acct-1', 0, 'a1', 0)]).violations).toEqual([]);
    // -1: the stream did not exist, no version to find
    const r = checkHistory(
      [attempt('acct-9', ['y1'], conflict(-1), { expectedVersion: 'stream_exists' })],
      [ev('acct-1', 0, 'a1', 0)],
      { allowUnlogged: true },
    );
    expect(r.violations).toEqual([]);
  });

  it('reports a conflict on a version that was never committed (a released reservation)', () => {
    // Issue 12: another append of the same group reserved version 0, the group's transaction failed, the
    // reservation was released, and nobody wrote version 0; the client was told it existed.
    const r = checkHistory([refused(0)], []);
    expect(kinds(r)).toEqual([6]);
    expect(r.violations[0]?.detail).toBe(
      'append to acct-1 by c2 (attempt 1, expected no_stream) answered conflict (actual 0), but version 0 of the ' +
        'stream was never committed (the stream has no committed event): the refusal was decided on versions that ' +
        'were reserved, not written',
    );
    const beyond = checkHistory([first, refused(3)], [ev('acct-1', 0, 'a1', 0)]);
    expect(kinds(beyond)).toEqual([6]);
    expect(beyond.violations[0]?.detail).toContain('its last committed version is 0');
  });

  it('reports a conflict on a version written only after the refusal was answered', () => {
    // The released version was taken later by another append: it exists, but not when the 409 was answered.
    const r = checkHistory([first, refused(0, 110)], [{ ...ev('acct-1', 0, 'a1', 0), timeMs: 130 }]);
    expect(kinds(r)).toEqual([6]);
    expect(r.violations[0]?.detail).toContain('version 0 was written 20 ms after the refusal was answered');
    expect(r.violations[0]?.detail).toContain('a1 at k.acct[0]@0');
    expect(r.violations[0]?.position).toEqual({ topic: T, partition: 0, offset: 0 });
  });
});

describe('invariant 4: an indeterminate append is in Kafka once or not at all', () => {
  it('accepts all or none', () => {
    const committed = [ev('acct-1', 0, 'a1', 0), ev('acct-1', 1, 'a2', 1)];
    const r = checkHistory(
      [attempt('acct-1', ['a1', 'a2'], indeterminate()), attempt('acct-1', ['n1', 'n2'], indeterminate())],
      committed,
    );
    expect(r.violations).toEqual([]);
    expect(r.summary.indeterminateWritten).toBe(1);
    expect(r.summary.indeterminateNotWritten).toBe(1);
  });

  it('reports a partial write', () => {
    const committed = [ev('acct-1', 0, 'a1', 0)];
    const r = checkHistory([attempt('acct-1', ['a1', 'a2'], indeterminate('500 outcome_unknown'))], committed);
    expect(kinds(r)).toEqual([4]);
    expect(r.violations[0]?.detail).toContain('only 1 of 2 event(s) are in Kafka (missing: a2)');
  });

  it('reports non-contiguous versions', () => {
    const committed = [ev('acct-1', 0, 'a1', 0), ev('acct-1', 1, 'x', 1), ev('acct-1', 2, 'a2', 2)];
    const r = checkHistory(
      [attempt('acct-1', ['a1', 'a2'], indeterminate()), attempt('acct-1', ['x'], ok(1, 1, 1))],
      committed,
    );
    expect(kinds(r)).toEqual([4]);
    expect(r.violations[0]?.detail).toContain('a2 is at version 2 after version 0');
  });

  it('reports events in another stream', () => {
    const committed = [ev('acct-9', 0, 'a1', 0)];
    const r = checkHistory([attempt('acct-1', ['a1'], indeterminate())], committed);
    expect(kinds(r)).toEqual([4]);
    expect(r.violations[0]?.detail).toContain('a1 is in stream acct-9');
  });

  it('reports an event written twice by a retry as a duplicate id', () => {
    const committed = [ev('acct-1', 0, 'a1', 0), ev('acct-1', 1, 'a1', 2)];
    const r = checkHistory(
      [
        attempt('acct-1', ['a1'], indeterminate(), { startMs: 0, endMs: 10 }),
        attempt('acct-1', ['a1'], indeterminate(), { startMs: 20, endMs: 30, attempt: 2 }),
      ],
      committed,
    );
    expect(kinds(r)).toEqual(['duplicate-id']);
    expect(r.violations[0]).toMatchObject({ eventIds: ['a1'], position: { offset: 2 } });
    expect(r.violations[0]?.detail).toContain('a retry wrote it again (invariant 4)');
  });
});

describe('unlogged events and duplicate ids', () => {
  const committed = [ev('acct-1', 0, 'a1', 0), ev('acct-1', 1, 'u1', 1), ev('acct-1', 2, 'u2', 2)];
  const attempts = [attempt('acct-1', ['a1'], ok(0, 0, 0))];

  it('reports events no attempt logged, one violation per stream', () => {
    const r = checkHistory(attempts, committed);
    expect(kinds(r)).toEqual(['unlogged']);
    expect(r.violations[0]).toMatchObject({ stream: 'acct-1', eventIds: ['u1', 'u2'], position: { offset: 1 } });
    expect(r.summary.unloggedEvents).toBe(2);
  });

  it('only counts them with allowUnlogged', () => {
    const r = checkHistory(attempts, committed, { allowUnlogged: true });
    expect(r.violations).toEqual([]);
    expect(r.summary.unloggedEvents).toBe(2);
  });

  it('reports records without kes headers as unlogged', () => {
    const foreignRecords = [{ topic: T, partition: 0, offset: 5, reason: 'missing or malformed kes headers' }];
    const r = checkHistory(attempts, committed.slice(0, 1), { foreignRecords });
    expect(kinds(r)).toEqual(['unlogged']);
    expect(r.violations[0]?.detail).toContain('1 record(s) without kes headers');
    expect(r.summary.foreignRecords).toBe(1);
    expect(checkHistory(attempts, committed.slice(0, 1), { foreignRecords, allowUnlogged: true }).violations).toEqual(
      [],
    );
  });

  it('reports an event id used by two streams', () => {
    const twice = [ev('acct-1', 0, 'a1', 0), ev('acct-2', 0, 'a1', 1)];
    const r = checkHistory([attempt('acct-1', ['a1'], ok(0, 0, 0))], twice);
    expect(kinds(r)).toEqual(['duplicate-id']);
    expect(r.violations[0]?.detail).toContain('event id is in Kafka 2 times');
  });

  it('counts violations per invariant and partitions read', () => {
    const r = checkHistory(attempts, committed, {
      partitionsRead: [
        { topic: T, partition: 0 },
        { topic: T, partition: 1 },
        { topic: 'k.user', partition: 0 },
      ],
    });
    expect(r.summary.violationsByInvariant).toEqual({ 1: 0, 2: 0, 3: 0, 4: 0, 6: 0, unlogged: 1, 'duplicate-id': 0 });
    expect(r.summary).toMatchObject({ topics: 2, partitions: 3, violations: 1 });
  });
});

// --- Generated histories: a simulated correct store ---

type Fate = 'ok' | 'conflict' | 'rejected' | 'indet-written' | 'indet-lost';
type Retry = 'none' | 'ok' | 'indeterminate';

interface Op {
  stream: number;
  n: number;
  fate: Fate;
  retry: Retry;
  expect: 'exact' | 'any';
  client: number;
  /** Offsets taken by aborted transactions before this append (invisible to read_committed readers). */
  skip: number;
}

const STREAMS = ['acct-0', 'acct-1', 'acct-2', 'acct-3', 'user-0', 'user-1', 'user-2'];
const PARTITIONS = 3;

const opArb: fc.Arbitrary<Op> = fc.record({
  stream: fc.integer({ min: 0, max: STREAMS.length - 1 }),
  n: fc.integer({ min: 1, max: 3 }),
  fate: fc.constantFrom<Fate>('ok', 'ok', 'conflict', 'rejected', 'indet-written', 'indet-lost'),
  retry: fc.constantFrom<Retry>('none', 'ok', 'indeterminate'),
  expect: fc.constantFrom<'exact' | 'any'>('exact', 'any'),
  client: fc.integer({ min: 0, max: 2 }),
  skip: fc.integer({ min: 0, max: 2 }),
});

/** Plays operations against a correct store: CAS on versions, idempotent retries, transactions with markers. */
function simulate(ops: readonly Op[]): { attempts: AppendAttempt[]; committed: CommittedEvent[] } {
  const attempts: AppendAttempt[] = [];
  const committed: CommittedEvent[] = [];
  const versions = new Map<string, number>();
  const nextOffset = new Map<string, number>();
  let clock = 1_000;
  let ids = 0;

  const placeOf = (stream: string) => {
    const topic = `k.${stream.split('-')[0]}`;
    const partition = [...stream].reduce((h, c) => h * 31 + c.charCodeAt(0), 7) % PARTITIONS;
    return { topic, partition, key: `${topic}/${partition}` };
  };
  const write = (stream: string, eventIds: string[], skip: number): AttemptOutcome => {
    const { topic, partition, key } = placeOf(stream);
    let offset = (nextOffset.get(key) ?? 0) + skip;
    const first = (versions.get(stream) ?? -1) + 1;
    eventIds.forEach((eventId, i) => {
      committed.push({ topic, partition, offset, stream, version: first + i, eventId, type: 'T' });
      offset++;
    });
    nextOffset.set(key, offset + 1); // the commit marker
    versions.set(stream, first + eventIds.length - 1);
    return ok(first, first + eventIds.length - 1, offset - 1, partition, topic);
  };
  const log = (op: Op, stream: string, eventIds: string[], expected: Expected, outcome: AttemptOutcome, n = 1) => {
    const startMs = clock;
    clock += 5;
    attempts.push({
      op: 'append',
      client: `c${op.client}`,
      stream,
      expectedVersion: expected,
      eventIds,
      attempt: n,
      startMs,
      endMs: clock,
      outcome,
    });
    clock += 1;
  };

  for (const op of ops) {
    const stream = STREAMS[op.stream] ?? 'acct-0';
    const eventIds = Array.from({ length: op.n }, () => `e${++ids}`);
    const current = versions.get(stream) ?? -1;
    const exact: Expected = current === -1 ? 'no_stream' : current;
    const expected: Expected = op.expect === 'any' ? 'any' : exact;
    switch (op.fate) {
      case 'ok':
        log(op, stream, eventIds, expected, write(stream, eventIds, op.skip));
        break;
      case 'conflict': {
        log(op, stream, eventIds, current + 1, conflict(current));
        if (op.retry === 'ok') log(op, stream, eventIds, exact, write(stream, eventIds, op.skip), 2);
        break;
      }
      case 'rejected':
        log(op, stream, eventIds, expected, rejected(503, 'not_ready'));
        if (op.retry === 'ok') log(op, stream, eventIds, expected, write(stream, eventIds, op.skip), 2);
        break;
      case 'indet-written': {
        const answer = write(stream, eventIds, op.skip);
        log(op, stream, eventIds, expected, indeterminate());
        // A retry is answered from the first write (or times out again and writes nothing).
        if (op.retry === 'ok') log(op, stream, eventIds, expected, answer, 2);
        if (op.retry === 'indeterminate') log(op, stream, eventIds, expected, indeterminate('again'), 2);
        break;
      }
      case 'indet-lost':
        log(op, stream, eventIds, expected, indeterminate());
        if (op.retry === 'ok') log(op, stream, eventIds, expected, write(stream, eventIds, op.skip), 2);
        if (op.retry === 'indeterminate') {
          write(stream, eventIds, op.skip);
          log(op, stream, eventIds, expected, indeterminate('again'), 2);
        }
        break;
    }
  }
  return { attempts, committed };
}

describe('generated histories', () => {
  it('a correct store never shows a violation, whatever the order of the log', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), fc.integer(), (ops, seed) => {
        const { attempts, committed } = simulate(ops);
        const r = checkHistory(attempts, committed);
        expect(r.violations).toEqual([]);
        expect(r.summary.committedEvents).toBe(committed.length);
        // Clients' logs interleave in any order; events arrive per partition.
        const shuffled = [...attempts].sort(
          (a, b) => hash(`${seed}${a.startMs}`) - hash(`${seed}${b.startMs}`) || a.startMs - b.startMs,
        );
        expect(checkHistory(shuffled, [...committed].reverse()).violations).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  type Corruption = 'drop' | 'duplicate' | 'swap';

  it('catches one dropped, duplicated or swapped committed event', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { minLength: 1, maxLength: 40 }),
        fc.constantFrom<Corruption>('drop', 'duplicate', 'swap'),
        fc.nat(),
        (ops, corruption, pick) => {
          const { attempts, committed } = simulate(ops);
          const corrupted = corrupt(committed, attempts, corruption, pick);
          fc.pre(corrupted !== undefined);
          if (!corrupted) return;
          const found = kinds(checkHistory(attempts, corrupted.events));
          expect(found.length).toBeGreaterThan(0);
          if (corruption === 'duplicate') expect(found).toContain('duplicate-id');
          if (corruption === 'swap') expect(found).toContain(1);
        },
      ),
      { numRuns: 500 },
    );
  });
});

function hash(s: string): number {
  let h = 0;
  for (const c of s) h = (h * 33 + c.charCodeAt(0)) | 0;
  return h;
}

/**
 * One corruption of a correct log. `drop` skips the one case no checker can see: the last event of a stream whose
 * single-event append only ever ended indeterminate (a log without it is just as correct).
 */
function corrupt(
  committed: readonly CommittedEvent[],
  attempts: readonly AppendAttempt[],
  kind: 'drop' | 'duplicate' | 'swap',
  pick: number,
): { events: CommittedEvent[] } | undefined {
  if (committed.length === 0) return undefined;
  if (kind === 'duplicate') {
    const e = committed[pick % committed.length];
    if (!e) return undefined;
    const end = Math.max(
      ...committed.filter((x) => x.topic === e.topic && x.partition === e.partition).map((x) => x.offset),
    );
    return { events: [...committed, { ...e, offset: end + 1 }] };
  }
  if (kind === 'drop') {
    const answeredOk = new Set(attempts.filter((a) => a.outcome.status === 'ok').flatMap((a) => a.eventIds));
    const size = new Map(attempts.flatMap((a) => a.eventIds.map((id) => [id, a.eventIds.length] as const)));
    const lastVersion = new Map<string, number>();
    for (const e of committed) lastVersion.set(e.stream, Math.max(lastVersion.get(e.stream) ?? -1, e.version));
    const visible = committed.filter(
      (e) => e.version !== lastVersion.get(e.stream) || answeredOk.has(e.eventId) || (size.get(e.eventId) ?? 1) > 1,
    );
    const victim = visible[pick % Math.max(visible.length, 1)];
    if (!victim) return undefined;
    return { events: committed.filter((e) => e !== victim) };
  }
  // swap: two consecutive events of one stream exchange places in the partition
  const pairs: [number, number][] = [];
  committed.forEach((e, i) => {
    const j = committed.findIndex((x) => x.stream === e.stream && x.version === e.version + 1);
    if (j >= 0) pairs.push([i, j]);
  });
  const pair = pairs[pick % Math.max(pairs.length, 1)];
  if (!pair) return undefined;
  const [i, j] = pair;
  const a = committed[i];
  const b = committed[j];
  if (!a || !b) return undefined;
  const events = [...committed];
  events[i] = { ...a, offset: b.offset };
  events[j] = { ...b, offset: a.offset };
  return { events };
}
