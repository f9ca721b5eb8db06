import { CommandRejectedError, ModuleError } from '../../pipeline/errors.js';
import type { AppendOutcome } from '../append/appendOutcome.js';
import type { CommandResult } from './commandResult.js';
import type { TogetherOutcome } from './decideTogether.js';

export type Answer = { ok: CommandResult } | { error: unknown };

/** The set's append as it was sent and answered: what each command's answer is cut from. */
export interface SetWrite {
  stream: string;
  category: string;
  /** The version the set was decided on. */
  version: number;
  attempt: number;
  /** Ids of the combined append's events, in order. */
  ids: readonly string[];
  /** Undefined when the set decided no events (nothing was appended). */
  outcome?: AppendOutcome;
}

/**
 * One command's answer out of its set's append: its own events' ids and versions, the stream's version after its
 * last event, and that event's offset (an append's events are contiguous in the partition, commitOutcomes.ts). A
 * command that wrote nothing is answered at the version it was decided on. A duplicate append (the same events,
 * written before) is the same set, so every version moves by the same amount.
 */
export function answerOf(type: string, decided: TogetherOutcome, write: SetWrite): Answer {
  const { stream, outcome } = write;
  const shift = outcome ? outcome.firstVersion - (write.version + 1) : 0;
  switch (decided.kind) {
    case 'nothing':
      return { ok: { stream, command: type, version: decided.version + shift, events: [], attempts: write.attempt } };
    case 'refused':
      return {
        error: new CommandRejectedError(decided.refusal.reason, decided.refusal.message, {
          stream,
          command: type,
          version: decided.version + shift,
        }),
      };
    case 'threw':
      return {
        error: new ModuleError(
          write.category,
          stream,
          `${decided.during} threw: ${(decided.error as Error)?.message ?? String(decided.error)}`,
          decided.error,
        ),
      };
    case 'write': {
      if (!outcome) throw new Error('answerOf: a command that wrote events needs the append outcome');
      const n = decided.events.length;
      const first = outcome.firstVersion + decided.at;
      const last = first + n - 1;
      if (decided.refusal) {
        return {
          error: new CommandRejectedError(decided.refusal.reason, decided.refusal.message, {
            stream,
            command: type,
            version: last,
          }),
        };
      }
      const result: CommandResult = {
        stream,
        command: type,
        version: last,
        events: decided.events.map((e, i) => ({
          id: write.ids[decided.at + i] as string,
          type: e.type,
          version: first + i,
        })),
        position: {
          topic: outcome.topic,
          partition: outcome.partition,
          offset: outcome.offset - (write.ids.length - (decided.at + n)),
        },
        attempts: write.attempt,
      };
      return { ok: outcome.duplicate ? { ...result, duplicate: true } : result };
    }
  }
}
