import { AssertionError, deepStrictEqual } from 'node:assert/strict';
import { CommandRejectedError } from '../../pipeline/errors.js';
import type { Command, CommandModule, DomainEvent } from './decider.js';
import { fold } from './decider.js';

/**
 * Given/when/then for deciders, without any service and without a test framework: `given(past events).when(command)`
 * folds the past into a state, runs decide, and the `then…` methods check the events decided, a rejection (and what
 * it records), or that nothing is to be done. A check that fails throws node's AssertionError, whose message holds
 * the diff of expected and actual (vitest, jest, mocha and node:test all print it as a failure).
 *
 *   const spec = deciderSpec(stockModule, 'sku-1');
 *   spec.given([{ type: 'StockReceived', data: { quantity: 5 } }])
 *     .when({ type: 'ship', data: { quantity: 9 } })
 *     .thenRejects('insufficient_stock');
 */
export function deciderSpec<S, C extends Command, E extends DomainEvent>(module: CommandModule<S, C, E>, id: string) {
  return {
    given(past: readonly E[]) {
      const state = fold(module, module.initialState(), past);
      return {
        when(command: C) {
          const what = `${module.category}-${id}: ${command.type}`;
          const run = (): readonly E[] => {
            try {
              return module.decide(command, state, id);
            } catch (error) {
              if (!(error instanceof CommandRejectedError)) throw error;
              throw new AssertionError({
                message: `${what} was rejected (${error.reason}: ${error.message}); expected it to decide`,
                actual: { rejected: error.reason, record: error.record },
                expected: 'events',
                operator: 'thenDecides',
              });
            }
          };
          return {
            thenDecides(expected: readonly E[]): void {
              deepStrictEqual(run(), expected, `${what} decided other events than expected`);
            },
            thenNothing(): void {
              deepStrictEqual(run(), [], `${what} decided events; expected nothing to do`);
            },
            thenRejects(code: string, record: readonly E[] = []): void {
              let decided: readonly E[];
              try {
                decided = module.decide(command, state, id);
              } catch (error) {
                if (!(error instanceof CommandRejectedError)) throw error;
                deepStrictEqual(
                  { rejected: error.reason, record: error.record },
                  { rejected: code, record },
                  `${what} was rejected other than expected`,
                );
                return;
              }
              throw new AssertionError({
                message: `${what} decided ${decided.length} event(s); expected a rejection '${code}'`,
                actual: decided,
                expected: { rejected: code, record },
                operator: 'thenRejects',
              });
            },
          };
        },
      };
    },
  };
}
