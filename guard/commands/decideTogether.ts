import { CommandRejectedError } from '../../pipeline/errors.js';
import type { Command, DomainEvent } from './decider.js';

/** A business refusal as decide threw it (`reject`), with the events that record it, if any. */
export interface Refusal {
  reason: string;
  message: string;
}

/** What one command of a set came to, on the state the commands before it left. */
export type TogetherOutcome =
  /** Events to write: `events` sit at `at`.. in the set's combined append; a recorded refusal also has `refusal`. */
  | { kind: 'write'; at: number; events: readonly DomainEvent[]; refusal?: Refusal }
  /** Decide had nothing to do; `version` is the stream's version it was decided on. */
  | { kind: 'nothing'; version: number }
  /** Refused, nothing recorded; `version` as for 'nothing'. */
  | { kind: 'refused'; refusal: Refusal; version: number }
  /** The module's own code threw (decide, or evolve on the events decide returned): a bug, answered to this command. */
  | { kind: 'threw'; during: 'decide' | 'evolve'; error: unknown };

export interface Together<S> {
  outcomes: TogetherOutcome[];
  /** Every written outcome's events, in the order of the commands: one append. */
  events: DomainEvent[];
  /** The state after all of them: exact at `start.version + events.length` once the append is committed. */
  state: S;
}

/**
 * Decides commands for one stream one after the other, each on the state the previous accepted ones left, so that
 * their events can be written as one append on the version the first was decided on. A command that is refused, has
 * nothing to do or throws adds no events and leaves the state as it found it: the commands after it are decided as
 * if it had not been sent. Pure: the caller does the reading and the writing, and answers nothing before the append
 * is committed (until then the state the later commands saw is not the log's).
 */
export function decideTogether<S>(
  start: { version: number; state: S },
  commands: readonly Command[],
  decide: (command: Command, state: S) => readonly DomainEvent[],
  evolve: (state: S, event: DomainEvent) => S,
): Together<S> {
  const outcomes: TogetherOutcome[] = [];
  const events: DomainEvent[] = [];
  let state = start.state;
  for (const command of commands) {
    const version = start.version + events.length;
    let decided: readonly DomainEvent[];
    let refusal: Refusal | undefined;
    try {
      decided = decide(command, state);
    } catch (error) {
      if (!(error instanceof CommandRejectedError)) {
        outcomes.push({ kind: 'threw', during: 'decide', error });
        continue;
      }
      refusal = { reason: error.reason, message: error.message };
      decided = error.record;
    }
    if (decided.length === 0) {
      outcomes.push(refusal ? { kind: 'refused', refusal, version } : { kind: 'nothing', version });
      continue;
    }
    let next = state;
    try {
      for (const event of decided) next = evolve(next, event);
    } catch (error) {
      // Its events would make a state the module cannot build: they must not be written.
      outcomes.push({ kind: 'threw', during: 'evolve', error });
      continue;
    }
    outcomes.push({ kind: 'write', at: events.length, events: decided, ...(refusal ? { refusal } : {}) });
    events.push(...decided);
    state = next;
  }
  return { outcomes, events, state };
}
