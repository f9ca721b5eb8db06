import { EventIdConflictError, WrongExpectedVersionError } from '../../pipeline/errors.js';
import type { AppendOutcome } from '../append/appendOutcome.js';
import type { PreparedAppend } from '../append/preparedAppend.js';
import { parseReserve } from '../protocol/redisState.js';

/** An append whose versions are reserved: it goes into this group's transaction. */
export interface ReservedAppend<T> {
  item: T;
  first: number;
  last: number;
}

/** A partition's reserved appends, in reserve order: their events go into Kafka in this order. */
export interface ReservedPartition<T> {
  topic: string;
  partition: number;
  appends: ReservedAppend<T>[];
}

/** What to do with one append after its partition's reserve script answered. */
export type ReserveDecision<T> =
  | ({ kind: 'write' } & ReservedAppend<T>)
  /** Its ids were written before (a retry): answered from that write, nothing written now. */
  | { kind: 'answer'; item: T; outcome: AppendOutcome }
  | {
      kind: 'refuse';
      item: T;
      error: WrongExpectedVersionError | EventIdConflictError;
      metric: 'conflict' | 'id_conflict';
    }
  /** The stream is locked by another reservation; `resolveHolder` names it when it is past its deadline. */
  | { kind: 'wait'; item: T; delayMs: number; resolveHolder?: string };

/** What to do with one partition's appends, given its reserve script's pipeline result. */
export type PartitionDecision<T> =
  /** No usable answer: every append of the partition tries again; 'stale' also means the state must be checked. */
  { kind: 'retry'; reason: 'redis' | 'stale'; delayMs: number } | { kind: 'each'; decisions: ReserveDecision<T>[] };

/**
 * Maps a reserve script's answer to a decision per append. A refusal here is final even after an earlier try with
 * an unknown outcome: the stream stayed locked until that try was resolved, and had it committed, its ids would
 * have answered 'dup'. Throws on an answer the script cannot give.
 */
export function decideReserveAnswers<
  T extends { append: Pick<PreparedAppend, 'stream' | 'expected'>; attempts: number },
>(items: readonly T[], result: readonly [Error | null, unknown] | undefined): PartitionDecision<T> {
  const [error, raw] = result ?? [new Error('no answer'), undefined];
  if (error) return { kind: 'retry', reason: 'redis', delayMs: 100 };
  const answers = parseReserve(raw);
  if (answers === 'stale') return { kind: 'retry', reason: 'stale', delayMs: 200 };
  const decisions: ReserveDecision<T>[] = [];
  items.forEach((item, i) => {
    const answer = answers[i];
    // The script answers every append it was given; an append without an answer is left as it was.
    if (!answer) return;
    const { stream } = item.append;
    switch (answer.kind) {
      case 'ok':
        decisions.push({ kind: 'write', item, first: answer.first, last: answer.last });
        return;
      case 'dup':
        decisions.push({
          kind: 'answer',
          item,
          outcome: {
            stream,
            firstVersion: answer.first,
            lastVersion: answer.last,
            topic: answer.topic,
            partition: answer.partition,
            offset: answer.offset,
            duplicate: true,
          },
        });
        return;
      case 'conflict':
        decisions.push({
          kind: 'refuse',
          item,
          error: new WrongExpectedVersionError(stream, item.append.expected, answer.actual),
          metric: 'conflict',
        });
        return;
      case 'idconflict':
        decisions.push({
          kind: 'refuse',
          item,
          error: new EventIdConflictError(stream, answer.eventId, answer.why),
          metric: 'id_conflict',
        });
        return;
      case 'busy':
        // Backs off with each try, to at most 100 ms: a hot stream's lock is usually lifted within one commit.
        decisions.push({
          kind: 'wait',
          item,
          delayMs: Math.min(5 + item.attempts * 5, 100),
          ...(answer.expired ? { resolveHolder: answer.holder } : {}),
        });
        return;
    }
  });
  return { kind: 'each', decisions };
}
