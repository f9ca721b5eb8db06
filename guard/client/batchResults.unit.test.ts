import { describe, expect, it } from 'vitest';
import {
  AppendIndeterminateError,
  AtomicAppendError,
  ForbiddenError,
  InvalidRequestError,
  type NotReadyError,
  TooLargeError,
  WrongExpectedVersionError,
} from '../../pipeline/errors.js';
import { type ItemAnswer, meaningOf } from './appendAnswers.js';
import { atomicVerdict, splitAnswer } from './batchResults.js';

const ok = (stream: string, v = 0) => ({
  status: 200,
  stream,
  firstVersion: v,
  lastVersion: v,
  topic: 'kes.events.account',
  partition: 1,
  offset: 7,
});
const conflict = (stream: string) => ({
  status: 409,
  error: 'wrong_expected_version',
  stream,
  expected: 3,
  actual: 5,
  message: `stream ${stream}: expected version 3, actual 5`,
});
const aborted = { status: 409, error: 'batch_aborted', message: 'another append of the batch failed' };
const notReady = { status: 503, error: 'not_ready', message: 'guard not ready: rebuilding' };
const unknown = (stream: string) => ({
  status: 500,
  error: 'outcome_unknown',
  message: `stream ${stream}: outcome unknown (commit timed out); retry with the same event ids`,
});

describe('splitting a batch answer into its items', () => {
  it('a 200 gives each item its own result, in order', () => {
    const items = splitAnswer({ kind: 'answered', status: 200, body: { results: [ok('a-1'), conflict('a-2')] } }, 2);
    expect(items.map((i) => (i.kind === 'answered' ? i.status : i.kind))).toEqual([200, 409]);
    expect(meaningOf(items[0] as ItemAnswer, 'a-1').verdict).toMatchObject({ kind: 'done', value: { stream: 'a-1' } });
    const second = meaningOf(items[1] as ItemAnswer, 'a-2');
    expect(second.outcome).toEqual({ status: 'conflict', actual: 5 });
    expect(second.verdict.kind).toBe('fail');
    expect((second.verdict as { error: unknown }).error).toBeInstanceOf(WrongExpectedVersionError);
  });

  it('a whole-request failure is every item answer: 413 final, 503 retried on another guard', () => {
    const tooLarge = splitAnswer(
      {
        kind: 'answered',
        status: 413,
        body: { error: 'too_large', message: 'body: 2000000 bytes exceeds the limit of 1048576', path: 'body' },
      },
      3,
    );
    expect(tooLarge).toHaveLength(3);
    for (const item of tooLarge) {
      const m = meaningOf(item, 'a-1');
      expect(m.verdict.kind).toBe('fail');
      expect((m.verdict as { error: unknown }).error).toBeInstanceOf(TooLargeError);
    }
    const down = splitAnswer({ kind: 'answered', status: 503, body: notReady, retryAfter: '2' }, 2);
    const m = meaningOf(down[1] as ItemAnswer, 'a-1');
    expect(m.verdict).toMatchObject({ kind: 'retry', guardDown: true });
    expect((m.verdict as unknown as { error: NotReadyError }).error.retryAfterS).toBe(2);
  });

  it('no answer, or results that do not fit the request, leave every outcome unknown (retried, same ids)', () => {
    const lost = splitAnswer({ kind: 'lost', reason: 'TimeoutError', message: 'no answer' }, 2);
    expect(meaningOf(lost[0] as ItemAnswer, 'a-1').outcome).toEqual({
      status: 'indeterminate',
      reason: 'TimeoutError',
    });
    const short = splitAnswer({ kind: 'answered', status: 200, body: { results: [ok('a-1')] } }, 2);
    for (const item of short) {
      const m = meaningOf(item, 'a-1');
      expect(m.outcome.status).toBe('indeterminate');
      expect((m.verdict as { error: unknown }).error).toBeInstanceOf(AppendIndeterminateError);
    }
  });

  it('an item answered outcome_unknown is retried on the same guard; 400 and 403 are final with their paths', () => {
    const items = splitAnswer(
      {
        kind: 'answered',
        status: 200,
        body: {
          results: [
            unknown('a-1'),
            {
              status: 400,
              error: 'invalid_event',
              message: 'appends[1].events[0].data.amount: must be a number',
              path: 'appends[1].events[0].data.amount',
            },
            { status: 403, error: 'forbidden', message: "service 'x' may not write category 'b'" },
          ],
        },
      },
      3,
    );
    expect(meaningOf(items[0] as ItemAnswer, 'a-1').verdict).toMatchObject({ kind: 'retry', guardDown: false });
    const bad = meaningOf(items[1] as ItemAnswer, 'a-2').verdict as { kind: string; error: InvalidRequestError };
    expect(bad.kind).toBe('fail');
    expect(bad.error).toBeInstanceOf(InvalidRequestError);
    expect(bad.error.path).toBe('appends[1].events[0].data.amount');
    expect((meaningOf(items[2] as ItemAnswer, 'b-1').verdict as { error: unknown }).error).toBeInstanceOf(
      ForbiddenError,
    );
  });
});

describe('what an atomic batch answer means', () => {
  const streams = ['a-1', 'a-2', 'a-3'];
  const answered = (results: Record<string, unknown>[], status = 200) =>
    splitAnswer({ kind: 'answered', status, body: { results } }, results.length);

  it('all written: done, with every result in order', () => {
    const v = atomicVerdict(streams, answered([ok('a-1'), ok('a-2', 4), ok('a-3')]));
    expect(v.kind).toBe('done');
    expect((v as { value: { stream: string }[] }).value.map((r) => r.stream)).toEqual(streams);
  });

  it('a conflict: final, every item outcome kept, the conflicting item is the cause', () => {
    const v = atomicVerdict(streams, answered([aborted, conflict('a-2'), aborted], 409));
    expect(v.kind).toBe('fail');
    const error = (v as unknown as { error: AtomicAppendError }).error;
    expect(error).toBeInstanceOf(AtomicAppendError);
    expect(error.failedIndex).toBe(1);
    expect(error.cause).toBeInstanceOf(WrongExpectedVersionError);
    expect(error.retriable).toBe(false);
    expect(error.results.map((r) => r.error?.constructor.name)).toEqual([
      'InvalidRequestError',
      'WrongExpectedVersionError',
      'InvalidRequestError',
    ]);
    expect(error.context).toMatchObject({ appends: 3, failedIndex: 1, stream: 'a-2' });
  });

  it('a definite refusal anywhere wins over a retriable one: nothing was written', () => {
    const v = atomicVerdict(streams, answered([notReady, aborted, conflict('a-3')], 503));
    expect(v.kind).toBe('fail');
    expect((v as unknown as { error: AtomicAppendError }).error.failedIndex).toBe(2);
  });

  it('outcome unknown: the whole batch is retried, on the same guard', () => {
    const v = atomicVerdict(streams, answered([unknown('a-1'), unknown('a-2'), unknown('a-3')], 500));
    expect(v).toMatchObject({ kind: 'retry', guardDown: false });
    expect((v as unknown as { error: AtomicAppendError }).error.retriable).toBe(true);
  });

  it('not ready or no answer: retried whole on another guard', () => {
    expect(atomicVerdict(streams, answered([aborted, notReady, aborted], 503))).toMatchObject({
      kind: 'retry',
      guardDown: true,
    });
    const lost = splitAnswer({ kind: 'lost', reason: 'Error', message: 'socket hang up' }, 3);
    expect(atomicVerdict(streams, lost)).toMatchObject({ kind: 'retry', guardDown: true });
  });
});
