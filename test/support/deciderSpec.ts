import { expect } from 'vitest';
import type { Command, CommandModule, DomainEvent } from '../../guard/commands/decider.js';
import { fold } from '../../guard/commands/decider.js';
import { CommandRejectedError } from '../../pipeline/errors.js';

/**
 * Given/when/then for deciders, without any service: `given(past events).when(command)` folds the past into a
 * state, runs decide, and the `then…` methods assert the events decided, a rejection (and what it records), or
 * that nothing is to be done.
 */
export function deciderSpec<S, C extends Command, E extends DomainEvent>(module: CommandModule<S, C, E>, id: string) {
  return {
    given(past: readonly E[]) {
      const state = fold(module, module.initialState(), past);
      return {
        when(command: C) {
          const run = () => module.decide(command, state, id);
          return {
            thenDecides(expected: readonly E[]) {
              expect(run()).toEqual(expected);
            },
            thenNothing() {
              expect(run()).toEqual([]);
            },
            thenRejects(code: string, record: readonly E[] = []) {
              let caught: unknown;
              try {
                run();
              } catch (error) {
                caught = error;
              }
              expect(caught).toBeInstanceOf(CommandRejectedError);
              expect((caught as CommandRejectedError).reason).toBe(code);
              expect((caught as CommandRejectedError).record).toEqual(record);
            },
          };
        },
      };
    },
  };
}
