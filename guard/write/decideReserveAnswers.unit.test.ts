import { describe, expect, it } from 'vitest';
import { EventIdConflictError, WrongExpectedVersionError } from '../../pipeline/errors.js';
import { decideReserveAnswers } from './decideReserveAnswers.js';

const item = (stream: string, attempts = 0) => ({ append: { stream, expected: 3 as const }, attempts });

describe('decideReserveAnswers', () => {
  it("'ok' writes at the reserved versions", () => {
    const a = item('order-1');
    expect(decideReserveAnswers([a], [null, [['ok', 4, 6]]])).toEqual({
      kind: 'each',
      decisions: [{ kind: 'write', item: a, first: 4, last: 6 }],
    });
  });

  it("'dup' answers from the first write, marked as a duplicate, in the same shape as a fresh answer", () => {
    const a = item('order-1');
    const decision = decideReserveAnswers([a], [null, [['dup', 2, 3, 'kes.order', 5, 812]]]);
    expect(decision).toEqual({
      kind: 'each',
      decisions: [
        {
          kind: 'answer',
          item: a,
          outcome: {
            stream: 'order-1',
            firstVersion: 2,
            lastVersion: 3,
            topic: 'kes.order',
            partition: 5,
            offset: 812,
            duplicate: true,
          },
        },
      ],
    });
    if (decision.kind === 'each' && decision.decisions[0]?.kind === 'answer') {
      expect(Object.keys(decision.decisions[0].outcome)).toEqual([
        'stream',
        'firstVersion',
        'lastVersion',
        'topic',
        'partition',
        'offset',
        'duplicate',
      ]);
    }
  });

  it("'conflict' refuses with the expected and the actual version", () => {
    const decision = decideReserveAnswers([item('order-1')], [null, [['conflict', 7]]]);
    const d = decision.kind === 'each' ? decision.decisions[0] : undefined;
    expect(d?.kind).toBe('refuse');
    if (d?.kind !== 'refuse') return;
    expect(d.metric).toBe('conflict');
    expect(d.error).toBeInstanceOf(WrongExpectedVersionError);
    expect(d.error).toMatchObject({ code: 'KES_WRONG_EXPECTED_VERSION', stream: 'order-1', expected: 3, actual: 7 });
  });

  it("'idconflict' refuses naming the event id and why", () => {
    const decision = decideReserveAnswers([item('order-1')], [null, [['idconflict', 'e-1', 'was written to order-2']]]);
    const d = decision.kind === 'each' ? decision.decisions[0] : undefined;
    if (d?.kind !== 'refuse') throw new Error(`expected a refusal, got ${JSON.stringify(d)}`);
    expect(d.metric).toBe('id_conflict');
    expect(d.error).toBeInstanceOf(EventIdConflictError);
    expect(d.error).toMatchObject({ code: 'KES_EVENT_ID_CONFLICT', stream: 'order-1', eventId: 'e-1' });
    expect(d.error.message).toContain('was written to order-2');
  });

  it("'busy' waits, longer with each attempt up to 100 ms; only an expired holder is named for resolving", () => {
    const decide = (attempts: number, expired: 0 | 1) =>
      decideReserveAnswers([item('order-1', attempts)], [null, [['busy', 'res-9', expired]]]);
    expect(decide(0, 0)).toEqual({ kind: 'each', decisions: [{ kind: 'wait', item: item('order-1', 0), delayMs: 5 }] });
    expect(decide(3, 1)).toEqual({
      kind: 'each',
      decisions: [{ kind: 'wait', item: item('order-1', 3), delayMs: 20, resolveHolder: 'res-9' }],
    });
    const capped = decide(50, 0);
    expect(capped.kind === 'each' && capped.decisions[0]?.kind === 'wait' && capped.decisions[0].delayMs).toBe(100);
  });

  it('decides each append of a partition by its own answer, in order', () => {
    const [a, b, c, d] = [item('s-1'), item('s-2'), item('s-3'), item('s-4')];
    const decision = decideReserveAnswers(
      [a, b, c, d],
      [
        null,
        [
          ['ok', 0, 0],
          ['conflict', 1],
          ['busy', 'r', 0],
          ['ok', 5, 5],
        ],
      ],
    );
    expect(decision.kind === 'each' && decision.decisions.map((x) => [x.kind, x.item.append.stream])).toEqual([
      ['write', 's-1'],
      ['refuse', 's-2'],
      ['wait', 's-3'],
      ['write', 's-4'],
    ]);
  });

  it('an append the script gave no answer for gets no decision', () => {
    const decision = decideReserveAnswers([item('s-1'), item('s-2')], [null, [['ok', 0, 0]]]);
    expect(decision.kind === 'each' && decision.decisions.length).toBe(1);
  });

  it('a Redis error, or no result at all, retries the whole partition after 100 ms', () => {
    const retry = { kind: 'retry', reason: 'redis', delayMs: 100 };
    expect(decideReserveAnswers([item('s-1')], [new Error('READONLY'), undefined])).toEqual(retry);
    expect(decideReserveAnswers([item('s-1')], undefined)).toEqual(retry);
  });

  it("'stale' retries the whole partition after 200 ms, as stale", () => {
    expect(decideReserveAnswers([item('s-1')], [null, ['stale']])).toEqual({
      kind: 'retry',
      reason: 'stale',
      delayMs: 200,
    });
  });

  it('throws on an answer the script cannot give', () => {
    expect(() => decideReserveAnswers([item('s-1')], [null, 'OK'])).toThrow(/unexpected reserve answer/);
    expect(() => decideReserveAnswers([item('s-1')], [null, [['maybe']]])).toThrow(/unexpected reserve answer/);
  });
});
