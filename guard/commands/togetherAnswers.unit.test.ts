import { describe, expect, it } from 'vitest';
import { CommandRejectedError, ModuleError } from '../../pipeline/errors.js';
import { answerOf, type SetWrite } from './togetherAnswers.js';

const added = (n: number) => ({ type: 'Added', data: { n } });
/** Five events decided on version 9: two by the first command, three by the third; written at offsets 100..104. */
const write: SetWrite = {
  stream: 'c-1',
  category: 'c',
  version: 9,
  attempt: 2,
  ids: ['a', 'b', 'c', 'd', 'e'],
  outcome: {
    stream: 'c-1',
    firstVersion: 10,
    lastVersion: 14,
    topic: 't',
    partition: 3,
    offset: 104,
    duplicate: false,
  },
};

describe('answerOf', () => {
  it("cuts each command's own events, versions and last offset out of the combined append", () => {
    expect(answerOf('add', { kind: 'write', at: 0, events: [added(1), added(2)] }, write)).toEqual({
      ok: {
        stream: 'c-1',
        command: 'add',
        version: 11,
        events: [
          { id: 'a', type: 'Added', version: 10 },
          { id: 'b', type: 'Added', version: 11 },
        ],
        position: { topic: 't', partition: 3, offset: 101 },
        attempts: 2,
      },
    });
    expect(answerOf('add', { kind: 'write', at: 2, events: [added(3), added(4), added(5)] }, write)).toMatchObject({
      ok: { version: 14, events: [{ id: 'c', version: 12 }, { id: 'd' }, { id: 'e', version: 14 }] },
    });
    const last = answerOf('add', { kind: 'write', at: 2, events: [added(3), added(4), added(5)] }, write);
    expect('ok' in last && last.ok.position).toEqual({ topic: 't', partition: 3, offset: 104 });
  });

  it('answers a command that wrote nothing, or was refused, at the version it was decided on', () => {
    expect(answerOf('noop', { kind: 'nothing', version: 11 }, write)).toEqual({
      ok: { stream: 'c-1', command: 'noop', version: 11, events: [], attempts: 2 },
    });
    const refused = answerOf(
      'take',
      { kind: 'refused', refusal: { reason: 'low', message: 'too low' }, version: 11 },
      write,
    );
    expect('error' in refused && refused.error).toBeInstanceOf(CommandRejectedError);
    expect(refused).toMatchObject({ error: { reason: 'low', version: 11, stream: 'c-1', message: 'c-1: too low' } });
  });

  it('answers a recorded refusal as a refusal at the version of its record', () => {
    const answer = answerOf(
      'take',
      { kind: 'write', at: 2, events: [added(0)], refusal: { reason: 'low', message: 'too low' } },
      write,
    );
    expect(answer).toMatchObject({ error: { reason: 'low', version: 12 } });
  });

  it("answers a module's throw as a module error of that command", () => {
    const answer = answerOf('bug', { kind: 'threw', during: 'evolve', error: new TypeError('boom') }, write);
    expect('error' in answer && answer.error).toBeInstanceOf(ModuleError);
    expect('error' in answer && (answer.error as Error).message).toContain('evolve threw: boom');
  });

  it('answers from the first write, every version moved alike, when the whole append was a duplicate', () => {
    const duplicate: SetWrite = {
      ...write,
      version: 20,
      outcome: { ...(write.outcome as NonNullable<SetWrite['outcome']>), duplicate: true },
    };
    expect(answerOf('add', { kind: 'write', at: 0, events: [added(1), added(2)] }, duplicate)).toMatchObject({
      ok: { version: 11, duplicate: true },
    });
    expect(answerOf('noop', { kind: 'nothing', version: 22 }, duplicate)).toMatchObject({ ok: { version: 11 } });
  });
});
