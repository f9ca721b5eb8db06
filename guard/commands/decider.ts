import type { z } from 'zod';
import { CommandRejectedError } from '../../pipeline/errors.js';

/**
 * The decider pattern: a domain module is three pure functions over one stream, plus the commands it accepts.
 *
 * - `initialState()`: the state of a stream with no events.
 * - `evolve(state, event)`: the state after one more event. It must not refuse anything: events are facts.
 * - `decide(command, state, id)`: the events a command produces on that state, or a rejection (`reject(code, message)`)
 *   when a business rule refuses it. An empty list means "nothing to do" (e.g. a step already applied).
 *
 * kes hosts modules: it folds the stream into the state, runs decide, and appends the events with a
 * compare-and-swap on the version the state was built from, so a decision is only ever written on top of the
 * exact state it was made on. States are cached as JSON beside the stream's version, so a state must be plain
 * JSON (objects, arrays, strings, finite numbers, booleans, null).
 */
export interface DomainEvent {
  readonly type: string;
  readonly data: Record<string, unknown>;
}

export interface Command {
  readonly type: string;
  readonly data: unknown;
}

/** The command schemas of a module, one zod schema per command type, checked before decide sees the command. */
export type CommandSchemas<C extends Command> = {
  readonly [K in C['type']]: z.ZodType<Extract<C, { type: K }>['data']>;
};

export interface Decider<S, C extends Command, E extends DomainEvent> {
  initialState(): S;
  evolve(state: S, event: E): S;
  /** `id` is the stream's id (`account-42` -> `42`), for events that carry it. */
  decide(command: C, state: S, id: string): readonly E[];
}

export interface CommandModule<S = unknown, C extends Command = Command, E extends DomainEvent = DomainEvent>
  extends Decider<S, C, E> {
  /** The category the module owns: its streams are `<category>-<id>`. */
  readonly category: string;
  /** The service that owns the category (shown in answers and logs; the write is done under its authority). */
  readonly service: string;
  /**
   * Bump it whenever `evolve` or the shape of the state changes: cached states of other versions are ignored and
   * rebuilt from the log.
   */
  readonly stateVersion: number;
  readonly commands: CommandSchemas<C>;
}

/**
 * Refuses a command with a stable code and a message for people; the answer is 422. Nothing is written, unless
 * `record` names events that record the refusal: they are appended (with the same compare-and-swap as any decision)
 * before the 422, for refusals that must stay the same when the command comes again after the state changed (a
 * saga's step: a debit refused for want of money must not succeed when the same step is redelivered later).
 */
export function reject(code: string, message: string, record: readonly DomainEvent[] = []): never {
  throw new CommandRejectedError(code, message, {}, record);
}

/** Folds events into a state, left to right. */
export function fold<S, E extends DomainEvent>(module: Decider<S, Command, E>, state: S, events: readonly E[]): S {
  let current = state;
  for (const event of events) current = module.evolve(current, event);
  return current;
}

/** Erases a module's type parameters, for hosting modules of different types side by side. */
export function anyModule<S, C extends Command, E extends DomainEvent>(module: CommandModule<S, C, E>): CommandModule {
  return module as unknown as CommandModule;
}
