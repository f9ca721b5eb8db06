import { randomUUID } from 'node:crypto';
import {
  AppendIndeterminateError,
  CommandConflictError,
  CommandRejectedError,
  EventIdConflictError,
  InvalidRequestError,
  ModuleError,
  WrongExpectedVersionError,
} from '../../pipeline/errors.js';
import { type CommandRequest, commandEventId, parseCommandData } from './commandRequest.js';
import type { CommandResult } from './commandResult.js';
import { takeTogether } from './commandSets.js';
import type { CommandStore } from './commandStore.js';
import type { Command, CommandModule } from './decider.js';
import { decideTogether, type TogetherOutcome } from './decideTogether.js';
import type { StateCache } from './stateCache.js';
import { type Loaded, StateLoader } from './stateLoader.js';
import { StreamQueue } from './streamQueue.js';
import { type Answer, answerOf, type SetWrite } from './togetherAnswers.js';

export interface CommandSettings {
  /** Attempts per command when the compare-and-swap loses to another writer. */
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Commands of one stream decided together and written as one append, at most (default 100). */
  maxTogether?: number;
}

export type { CommandResult };

export interface CommandHooks {
  /** Called after decide and before the append (tests hold a decision here to make its state stale). */
  afterDecide?: (stream: string, attempt: number) => Promise<void>;
  onConflict?: (module: CommandModule) => void;
  /** A set of commands decided together, counted once per decision (each attempt). */
  onSet?: (module: CommandModule, size: number) => void;
  onOutcome?: (module: CommandModule, outcome: 'ok' | 'noop' | 'duplicate' | 'rejected' | 'conflict' | 'error') => void;
  onStateLoad?: (source: 'cache' | 'log' | 'empty', eventsRead: number) => void;
}

/** A command waiting for its stream, with the way to answer it. */
interface Waiting {
  module: CommandModule;
  id: string;
  request: CommandRequest;
  command: Command;
  clientDeadline: number | undefined;
  traceparent: string | undefined;
  settle: (answer: Answer) => void;
}

/** Commands decided together at most: their events are one append, one Redis reservation, one set of records. */
const MAX_TOGETHER = 100;

/**
 * Runs commands against a module: load the stream's state at its committed version (cached state, plus the events
 * after it from Kafka), decide, and append the events with a compare-and-swap on that version. Commands on one
 * stream that wait in this process at the same time are decided together (decideTogether.ts, one after the other on
 * the state the previous ones left) and written as one append on the version the first was decided on; each is still
 * answered on its own, and only once that append is committed. A conflict means another writer got there first:
 * reload and decide the whole set again, up to `maxAttempts` times with jittered backoff. The compare-and-swap is what
 * makes a stale state harmless: a decision is written only on top of the exact version it was decided on.
 */
export class CommandHandler {
  private readonly queue = new StreamQueue<Waiting>(
    (queue) => takeTogether(queue, this.settings.maxTogether ?? MAX_TOGETHER),
    (stream, set) => this.runSet(stream, set),
  );

  private readonly states: StateLoader;

  constructor(
    private readonly store: CommandStore,
    cache: StateCache | undefined,
    private readonly settings: CommandSettings,
    private readonly hooks: CommandHooks = {},
  ) {
    this.states = new StateLoader(store, cache, (source, eventsRead) => hooks.onStateLoad?.(source, eventsRead));
  }

  async handle(
    module: CommandModule,
    id: string,
    request: CommandRequest,
    clientDeadline?: number,
    traceparent?: string,
  ): Promise<CommandResult> {
    const stream = `${module.category}-${id}`;
    try {
      const command = { type: request.type, data: parseCommandData(module, request) };
      const answer = await new Promise<Answer>((settle) =>
        this.queue.push(stream, { module, id, request, command, clientDeadline, traceparent, settle }),
      );
      if ('error' in answer) throw answer.error;
      const result = answer.ok;
      this.hooks.onOutcome?.(module, result.duplicate ? 'duplicate' : result.events.length === 0 ? 'noop' : 'ok');
      return result;
    } catch (error) {
      this.hooks.onOutcome?.(
        module,
        error instanceof CommandRejectedError
          ? 'rejected'
          : error instanceof CommandConflictError || error instanceof WrongExpectedVersionError
            ? 'conflict'
            : 'error',
      );
      throw error;
    }
  }

  /** The stream's state at its committed version, exactly as a command would be decided on it (no write). */
  async state(module: CommandModule, id: string): Promise<{ stream: string; version: number; state: unknown }> {
    const stream = `${module.category}-${id}`;
    const loaded = await this.states.load(module, stream);
    return { stream, version: loaded.version, state: loaded.state };
  }

  /** Answers every command of the set, whatever fails. */
  private async runSet(stream: string, set: Waiting[]): Promise<void> {
    const open = new Set(set);
    const settle = (item: Waiting, answer: Answer) => {
      if (open.delete(item)) item.settle(answer);
    };
    try {
      // The command id lookups and the first load need nothing of each other: one round of Redis reads, not two.
      const firstLoad = this.states.load((set[0] as Waiting).module, stream);
      firstLoad.catch(() => undefined); // unused when every command was a duplicate; otherwise awaited below
      await this.decideAndWrite(stream, await this.notYetApplied(stream, set, settle), settle, firstLoad);
    } catch (error) {
      for (const item of open) settle(item, { error });
    }
  }

  /**
   * Answers the commands whose command id was already applied from their first write, and returns the others. Once
   * per command, before its first decision: a retry of a written command is never decided again.
   */
  private async notYetApplied(
    stream: string,
    set: Waiting[],
    settle: (item: Waiting, answer: Answer) => void,
  ): Promise<Waiting[]> {
    const applied = await Promise.all(
      set.map(async (item) => {
        const { commandId } = item.request;
        if (commandId === undefined) return false;
        try {
          const first = await this.firstWrite(stream, commandEventId(stream, commandId, 0));
          if (!first) return false;
          settle(item, { ok: duplicateAnswer(stream, item, first.version, 0) });
        } catch (error) {
          settle(item, { error });
        }
        return true;
      }),
    );
    return set.filter((_, i) => !applied[i]);
  }

  private async decideAndWrite(
    stream: string,
    set: Waiting[],
    settle: (item: Waiting, answer: Answer) => void,
    firstLoad?: Promise<Loaded>,
  ): Promise<void> {
    const head = set[0];
    if (head === undefined) return;
    const { module, id } = head;
    // takeTogether puts a command with an expected version first and alone.
    const expectedVersion = set.length === 1 ? head.request.expectedVersion : undefined;
    let conflict: WrongExpectedVersionError | undefined;
    for (let attempt = 1; attempt <= this.settings.maxAttempts; attempt++) {
      const loaded = attempt === 1 && firstLoad ? await firstLoad : await this.states.load(module, stream);
      if (expectedVersion !== undefined && loaded.version !== expectedVersion) {
        throw new WrongExpectedVersionError(stream, expectedVersion, loaded.version);
      }
      this.hooks.onSet?.(module, set.length);
      const together = decideTogether(
        loaded,
        set.map((item) => item.command),
        (command, state) => module.decide(command, state, id),
        (state, event) => module.evolve(state, event),
      );
      const write: SetWrite = { stream, category: module.category, version: loaded.version, attempt, ids: [] };
      if (together.events.length === 0) {
        for (const [i, item] of set.entries()) {
          settle(item, answerOf(item.request.type, together.outcomes[i] as TogetherOutcome, write));
        }
        return;
      }
      await this.hooks.afterDecide?.(stream, attempt);
      const events = setEvents(stream, set, together.outcomes);
      write.ids = events.map((e) => e.id);
      try {
        write.outcome = await this.store.append(
          module,
          stream,
          loaded.version,
          events,
          earliest(set.map((item) => item.clientDeadline)),
          head.traceparent,
        );
      } catch (error) {
        if (error instanceof WrongExpectedVersionError && expectedVersion === undefined) {
          conflict = error;
          this.hooks.onConflict?.(module);
          if (attempt < this.settings.maxAttempts) await this.backoff(attempt);
          continue;
        }
        if (set.length > 1 && (error instanceof EventIdConflictError || error instanceof InvalidRequestError)) {
          // One command's events are refused (ids taken by its own earlier write, or an event the schemas refuse) and
          // with them the whole append: each command alone finds out which, and is answered as it would have been.
          for (const item of set) await this.runSet(stream, [item]);
          return;
        }
        settle(head, { ok: await this.appendFailed(module, stream, head, write.ids[0] as string, attempt, error) });
        return;
      }
      for (const [i, item] of set.entries()) {
        settle(item, answerOf(item.request.type, together.outcomes[i] as TogetherOutcome, write));
      }
      // The answers need not wait for the cache (it only saves reads); this stream's next set does.
      if (!write.outcome.duplicate) await this.states.remember(module, stream, write.outcome, together.state);
      return;
    }
    throw new CommandConflictError(
      stream,
      this.settings.maxAttempts,
      conflict?.expected as number,
      conflict?.actual ?? -1,
    );
  }

  /** What a set's append that failed for something other than a version conflict answers its (first) command. */
  private async appendFailed(
    module: CommandModule,
    stream: string,
    item: Waiting,
    firstId: string,
    attempt: number,
    error: unknown,
  ): Promise<CommandResult> {
    if (error instanceof EventIdConflictError && item.request.commandId !== undefined) {
      // The derived ids were taken by this command's first write (on an older state): it was applied.
      const first = await this.firstWrite(stream, firstId);
      if (!first)
        throw new AppendIndeterminateError(
          stream,
          'the ids of this command id are taken by an append that is not readable',
          error,
        );
      return duplicateAnswer(stream, item, first.version, attempt);
    }
    if (error instanceof InvalidRequestError) {
      throw new ModuleError(
        module.category,
        stream,
        `decide produced an event the schemas refuse: ${error.message}`,
        error,
      );
    }
    throw error;
  }

  /**
   * The first write of a command's first event id. While an earlier attempt is still in flight its outcome is not
   * known: the caller must retry with the same command id, never be told "applied" or "not applied".
   */
  private async firstWrite(stream: string, eventId: string): Promise<{ version: number } | undefined> {
    const first = await this.store.written(eventId, stream);
    if (first === 'pending') {
      throw new AppendIndeterminateError(stream, 'an earlier attempt of this command id is still being written');
    }
    return first;
  }

  private backoff(attempt: number): Promise<void> {
    const cap = Math.min(this.settings.retryMaxMs, this.settings.retryBaseMs * 2 ** (attempt - 1));
    return new Promise((resolve) => setTimeout(resolve, Math.random() * cap));
  }
}

/** The answer to a command whose command id was applied before: nothing new was written. */
function duplicateAnswer(stream: string, item: Waiting, version: number, attempts: number): CommandResult {
  return { stream, command: item.request.type, version, events: [], attempts, duplicate: true };
}

/**
 * The set's events with their ids. Ids derived from the command id mark a command's decision as applied (a repeat
 * is answered from the first write). A recorded refusal's must not: a repeat is decided again and refused again, by
 * the state it recorded.
 */
function setEvents(
  stream: string,
  set: readonly Waiting[],
  outcomes: readonly TogetherOutcome[],
): { id: string; type: string; data: unknown }[] {
  const events: { id: string; type: string; data: unknown }[] = [];
  set.forEach((item, i) => {
    const decided = outcomes[i];
    if (decided?.kind !== 'write') return;
    const { commandId } = item.request;
    decided.events.forEach((event, k) => {
      const id = commandId === undefined || decided.refusal ? randomUUID() : commandEventId(stream, commandId, k);
      events.push({ id, type: event.type, data: event.data });
    });
  });
  return events;
}

/** The set's append must not be reserved after any of its clients gave up. */
function earliest(deadlines: readonly (number | undefined)[]): number | undefined {
  const known = deadlines.filter((d): d is number => d !== undefined);
  return known.length === 0 ? undefined : Math.min(...known);
}
