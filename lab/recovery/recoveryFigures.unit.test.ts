import { describe, expect, it } from 'vitest';
import type { AppendAttempt, AttemptOutcome } from '../../verify/history/history.js';
import { linearFit, parseRebuildLine, recoveryReading, refusalWindow, streamStall } from './recoveryFigures.js';

const ok: AttemptOutcome = { status: 'ok', firstVersion: 0, lastVersion: 0, topic: 't', partition: 0, offset: 0 };
const notReady: AttemptOutcome = { status: 'rejected', httpStatus: 503, code: 'not_ready' };
const attempt = (stream: string, startMs: number, endMs: number, outcome: AttemptOutcome): AppendAttempt => ({
  op: 'append',
  client: 'c',
  stream,
  expectedVersion: 'any',
  eventIds: [`${stream}-${startMs}`],
  attempt: 1,
  startMs,
  endMs,
  outcome,
});

describe('refusalWindow', () => {
  it('runs from the first 503 after the wipe to the first write that started after it', () => {
    const attempts = [
      attempt('a-1', 900, 990, notReady), // before the wipe: not counted
      attempt('a-1', 1_000, 1_010, ok),
      attempt('a-1', 1_100, 1_200, notReady),
      attempt('a-2', 1_150, 1_300, ok), // started before the first refusal: not a recovery
      attempt('a-1', 1_300, 1_500, notReady),
      attempt('a-1', 1_600, 2_400, ok),
      attempt('a-2', 2_500, 2_600, notReady), // after the recovery
    ];
    expect(refusalWindow(attempts, 1_050)).toEqual({
      firstRefusalMs: 1_200,
      recoveredMs: 2_400,
      windowMs: 1_200,
      refused: 2,
      faultToRecoveredMs: 1_350,
    });
  });

  it('is undefined without a refusal or without a recovery', () => {
    expect(refusalWindow([attempt('a-1', 0, 10, ok)], 0)).toBeUndefined();
    expect(refusalWindow([attempt('a-1', 0, 10, notReady)], 0)).toBeUndefined();
  });
});

describe('streamStall', () => {
  it('finds the stream that stalled longest, among those written in the window', () => {
    const attempts = [
      attempt('a-1', 0, 100, ok),
      attempt('a-2', 0, 100, ok),
      attempt('a-1', 1_000, 1_050, ok),
      attempt('a-1', 1_100, 1_150, ok),
      attempt('a-1', 2_000, 2_050, ok),
      attempt('a-1', 3_000, 3_050, ok),
      attempt('a-2', 2_900, 3_000, ok), // locked by the dead guard until here
      attempt('a-1', 3_900, 3_950, ok),
      attempt('a-2', 3_900, 3_960, ok),
      attempt('a-4', 4_100, 4_200, ok), // not written in the window: not counted
    ];
    const stall = streamStall(attempts, 1_000, 4_000, 1_000);
    expect(stall).toEqual({ worstGapMs: 2_000, worstStream: 'a-2', streamsOver: 1, streams: 2 });
  });
});

describe('parseRebuildLine', () => {
  it("reads the guard's line and ignores others", () => {
    const line = '{"level":"warn","msg":"guard state rebuilt","partitions":8,"eventsApplied":10423,"ms":812}';
    expect(parseRebuildLine(line)).toEqual({ eventsApplied: 10423, ms: 812 });
    expect(parseRebuildLine('{"msg":"rebuilding guard state from Kafka"}')).toBeUndefined();
    expect(parseRebuildLine('guard state rebuilt {not json')).toBeUndefined();
  });
});

describe('linearFit', () => {
  it('fits a line, and needs two distinct x', () => {
    expect(
      linearFit([
        [0, 1],
        [10, 21],
        [20, 41],
      ]),
    ).toEqual({ slope: 2, intercept: 1 });
    expect(linearFit([[5, 1]])).toBeUndefined();
    expect(
      linearFit([
        [5, 1],
        [5, 2],
      ]),
    ).toBeUndefined();
  });
});

describe('recoveryReading', () => {
  it('says the windows, their growth with the log, the stalls against the lease and the verdict', () => {
    const text = recoveryReading(
      [
        { logEvents: 1_000, windowMs: 1_100, refused: 40 },
        { logEvents: 101_000, windowMs: 3_100, refused: 400 },
      ],
      [{ leaseMs: 2_000, stallMs: 1_900, beforeMs: 80, resolves: 3, streamsStalled: 2, streams: 8 }],
      0,
    );
    expect(text).toContain('1.10 s with 1,000 events (40 appends refused)');
    expect(text).toContain('about 2.00 s per 100,000 events');
    expect(text).toContain('1.90 s with a 2.00 s lease (95% of it; 3 reservations resolved');
    expect(text).toContain('Streams stalled over half the lease: 2 of 8');
    expect(text).toContain('0 violations');
  });

  it('says so when the dead guard held nothing', () => {
    const text = recoveryReading(
      [],
      [{ leaseMs: 2_000, stallMs: 50, beforeMs: 60, resolves: 0, streamsStalled: 0, streams: 8 }],
      1,
    );
    expect(text).toContain('held no reservation');
    expect(text).toContain('1 violation(s)');
  });
});
