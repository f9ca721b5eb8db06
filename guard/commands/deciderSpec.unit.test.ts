import { AssertionError } from 'node:assert';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { CommandModule } from './decider.js';
import { reject } from './decider.js';
import { deciderSpec } from './deciderSpec.js';

type Counted = { type: 'Counted'; data: { by: number } };
type Add = { type: 'add'; data: { by: number } };
const counter: CommandModule<number, Add, Counted> = {
  category: 'counter',
  service: 'counters',
  stateVersion: 1,
  commands: { add: z.object({ by: z.number() }) },
  initialState: () => 0,
  evolve: (n, e) => n + e.data.by,
  decide(command, n) {
    if (command.data.by === 0) return [];
    if (n + command.data.by > 10) reject('too_many', `${n} + ${command.data.by} > 10`);
    return [{ type: 'Counted', data: { by: command.data.by } }];
  },
};
const spec = deciderSpec(counter, 'c1');
const add = (by: number): Add => ({ type: 'add', data: { by } });
const counted = (by: number): Counted => ({ type: 'Counted', data: { by } });

describe('deciderSpec', () => {
  it('passes when the decider does what is expected', () => {
    spec
      .given([counted(3)])
      .when(add(2))
      .thenDecides([counted(2)]);
    spec.given([]).when(add(0)).thenNothing();
    spec
      .given([counted(9)])
      .when(add(2))
      .thenRejects('too_many');
  });

  it('throws an AssertionError with the diff when the events differ', () => {
    const failure = catchFrom(() =>
      spec
        .given([])
        .when(add(2))
        .thenDecides([counted(3)]),
    );
    expect(failure).toBeInstanceOf(AssertionError);
    expect(failure.message).toContain('counter-c1: add decided other events than expected');
    expect(failure.message).toMatch(/by: 3/);
    expect(failure.message).toMatch(/by: 2/);
  });

  it('says when a command was rejected instead of deciding, and when it decided instead of a rejection', () => {
    expect(
      catchFrom(() =>
        spec
          .given([counted(9)])
          .when(add(2))
          .thenDecides([]),
      ).message,
    ).toContain('was rejected (too_many: 9 + 2 > 10); expected it to decide');
    expect(catchFrom(() => spec.given([]).when(add(1)).thenRejects('too_many')).message).toContain(
      "decided 1 event(s); expected a rejection 'too_many'",
    );
    expect(
      catchFrom(() =>
        spec
          .given([counted(9)])
          .when(add(2))
          .thenRejects('other'),
      ).message,
    ).toContain('rejected other than expected');
    expect(catchFrom(() => spec.given([]).when(add(1)).thenNothing()).message).toContain('expected nothing to do');
  });
});

function catchFrom(run: () => void): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}
