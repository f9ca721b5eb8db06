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
import type { AppendOutcome } from '../append/appendOutcome.js';
import { type CommandRequest, commandEventId, parseCommandData } from './commandRequest.js';
import type { CommandResult } from './commandResult.js';
import { type CommandModule, type DomainEvent, fold } from './decider.js';
import type { StateCache } from './stateCache.js';
import type { StreamEvent, StreamSlice } from './streamEvents.js';

/** Where a stream is and how far it has been committed (a reservation in flight is not counted). */
export interface StreamLocation {
  version: number;
  topic: string;
  /** Undefined while the category has no topic (no stream of it was ever written). */
  partition: number | undefined;
}

/** What the handler needs from an event store: the guard in-process implements it (guardStore.ts). */
export interface CommandStore {
  locate(stream: string): Promise<StreamLocation>;
  read(slice: StreamSlice): Promise<StreamEvent[]>;
  /** Compare-and-swap append on `expected` (-1: no events yet), under the module's authority. */
  append(
    module: CommandModule,
    stream: string,
    expected: number,
    events: readonly { id: string; type: string; data: unknown }[],
    /** When the caller gives up (epoch ms): no append is reserved after it (see guard/append/attemptDeadline.ts). */
    clientDeadline?: number,
    /** The command request's W3C traceparent, written to the events' records (guard/append/traceparentHeader.ts). */
    traceparent?: string,
  ): Promise<AppendOutcome>;
  /** The first write of an event id while the idempotency window remembers it; 'pending' while it is in flight. */
  written(eventId: string, stream: string): Promise<{ stream: string; version: number } | 'pending' | undefined>;
}

export interface CommandSettings {
  /** Attempts per command when the compare-and-swap loses to another writer. */
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

export type { CommandResult };

export interface CommandHooks {
  /** Called after decide and before the append (tests hold a decision here to make its state stale). */
  afterDecide?: (stream: string, attempt: number) => Promise<void>;
  onConflict?: (module: CommandModule) => void;
  onOutcome?: (module: CommandModule, outcome: 'ok' | 'noop' | 'duplicate' | 'rejected' | 'conflict' | 'error') => void;
  onStateLoad?: (source: 'cache' | 'log' | 'empty', eventsRead: number) => void;
}

interface Loaded {
  version: number;
  state: unknown;
}

/**
 * Runs a command against a module: load the stream's state at its committed version (cached state, plus the events
 * after it from Kafka), decide, and append the events with a compare-and-swap on that version. A conflict means
 * another writer got there first: reload and decide again, up to `maxAttempts` times with jittered backoff. The
 * compare-and-swap is what makes a stale state harmless: a decision is written only on top of the exact version it
 * was decided on. A rejection or an empty decision is made on the state that was current when it was loaded.
 */
export class CommandHandler {
  constructor(
    private readonly store: CommandStore,
    private readonly cache: StateCache | undefined,
    private readonly settings: CommandSettings,
    private readonly hooks: CommandHooks = {},
  ) {}

  async handle(
    module: CommandModule,
    id: string,
    request: CommandRequest,
    clientDeadline?: number,
    traceparent?: string,
  ): Promise<CommandResult> {
    const stream = `${module.category}-${id}`;
    try {
      const result = await this.oneAtATime(stream, () =>
        this.run(module, id, stream, request, clientDeadline, traceparent),
      );
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

  /**
   * Commands on one stream run one after the other in this process. Correctness does not depend on it (the
   * compare-and-swap decides between writers, in this guard or another), but on a hot stream it turns N concurrent
   * writers' N^2 conflicting attempts into N attempts, each decided on the state the previous one left in the cache.
   */
  private async oneAtATime<T>(stream: string, run: () => Promise<T>): Promise<T> {
    const before = this.lanes.get(stream);
    let done: () => void = () => {};
    const mine = new Promise<void>((resolve) => {
      done = resolve;
    });
    const tail = before ? before.then(() => mine) : mine;
    this.lanes.set(stream, tail);
    try {
      if (before) await before;
      return await run();
    } finally {
      done();
      if (this.lanes.get(stream) === tail) this.lanes.delete(stream);
    }
  }

  private readonly lanes = new Map<string, Promise<void>>();

  /** The stream's state at its committed version, exactly as a command would be decided on it (no write). */
  async state(module: CommandModule, id: string): Promise<{ stream: string; version: number; state: unknown }> {
    const stream = `${module.category}-${id}`;
    const loaded = await this.load(module, stream);
    return { stream, version: loaded.version, state: loaded.state };
  }

  private async run(
    module: CommandModule,
    id: string,
    stream: string,
    request: CommandRequest,
    clientDeadline: number | undefined,
    traceparent: string | undefined,
  ): Promise<CommandResult> {
    const data = parseCommandData(module, request);
    const command = { type: request.type, data };
    if (request.commandId !== undefined) {
      const first = await this.firstWrite(stream, commandEventId(stream, request.commandId, 0));
      if (first)
        return { stream, command: request.type, version: first.version, events: [], attempts: 0, duplicate: true };
    }
    let conflict: WrongExpectedVersionError | undefined;
    for (let attempt = 1; attempt <= this.settings.maxAttempts; attempt++) {
      const loaded = await this.load(module, stream);
      if (request.expectedVersion !== undefined && loaded.version !== request.expectedVersion) {
        throw new WrongExpectedVersionError(stream, request.expectedVersion, loaded.version);
      }
      const { events: decided, refusal } = this.decide(module, stream, id, command, loaded);
      if (decided.length === 0) {
        if (refusal) throw refusal;
        return { stream, command: request.type, version: loaded.version, events: [], attempts: attempt };
      }
      await this.hooks.afterDecide?.(stream, attempt);
      // Ids derived from the command id mark its decision as applied (a repeat is answered from the first write).
      // A recorded refusal must not: a repeat is decided again and refused again, by the state it recorded.
      const events = decided.map((event, i) => ({
        id: request.commandId === undefined || refusal ? randomUUID() : commandEventId(stream, request.commandId, i),
        type: event.type,
        data: event.data,
      }));
      let outcome: AppendOutcome;
      try {
        outcome = await this.store.append(module, stream, loaded.version, events, clientDeadline, traceparent);
      } catch (error) {
        if (error instanceof WrongExpectedVersionError && request.expectedVersion === undefined) {
          conflict = error;
          this.hooks.onConflict?.(module);
          if (attempt < this.settings.maxAttempts) await this.backoff(attempt);
          continue;
        }
        if (error instanceof EventIdConflictError && request.commandId !== undefined) {
          // The derived ids were taken by this command's first write (on an older state): it was applied.
          const first = await this.firstWrite(stream, events[0]?.id as string);
          if (!first)
            throw new AppendIndeterminateError(
              stream,
              'the ids of this command id are taken by an append that is not readable',
              error,
            );
          return {
            stream,
            command: request.type,
            version: first.version,
            events: [],
            attempts: attempt,
            duplicate: true,
          };
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
      const result: CommandResult = {
        stream,
        command: request.type,
        version: outcome.lastVersion,
        events: events.map((e, i) => ({ id: e.id, type: e.type, version: outcome.firstVersion + i })),
        position: { topic: outcome.topic, partition: outcome.partition, offset: outcome.offset },
        attempts: attempt,
      };
      if (!outcome.duplicate) await this.remember(module, stream, outcome, fold(module, loaded.state, decided));
      if (refusal) {
        throw new CommandRejectedError(refusal.reason, refusal.message.slice(stream.length + 2), {
          stream,
          command: request.type,
          version: outcome.lastVersion,
        });
      }
      return outcome.duplicate ? { ...result, duplicate: true } : result;
    }
    throw new CommandConflictError(
      stream,
      this.settings.maxAttempts,
      conflict?.expected as number,
      conflict?.actual ?? -1,
    );
  }

  private decide(
    module: CommandModule,
    stream: string,
    id: string,
    command: { type: string; data: unknown },
    loaded: Loaded,
  ): { events: readonly DomainEvent[]; refusal?: CommandRejectedError } {
    try {
      return { events: module.decide(command, loaded.state, id) };
    } catch (error) {
      if (error instanceof CommandRejectedError) {
        const refusal = new CommandRejectedError(error.reason, error.message, {
          stream,
          command: command.type,
          version: loaded.version,
        });
        // A refusal that records itself is written like a decision (and retried like one on a conflict).
        if (error.record.length > 0) return { events: error.record, refusal };
        throw refusal;
      }
      throw new ModuleError(module.category, stream, `decide threw: ${(error as Error).message}`, error);
    }
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

  /** The stream's state at its committed version. */
  private async load(module: CommandModule, stream: string): Promise<Loaded> {
    const at = await this.store.locate(stream);
    if (at.version < 0 || at.partition === undefined) {
      this.hooks.onStateLoad?.('empty', 0);
      return { version: -1, state: module.initialState() };
    }
    const key = this.cache?.key(module.category, module.stateVersion, stream);
    const cached = key === undefined ? undefined : await this.cache?.get(key);
    // An entry from before a repartitioning is not used. An entry ahead of the version just read is another
    // writer's commit that landed between the two reads: it is committed, so it is exact at its version, and the
    // compare-and-swap on that version is as good as on any other.
    const base =
      cached && cached.partition === at.partition ? cached : { version: -1, offset: -1, state: module.initialState() };
    if (base.version >= at.version) {
      this.hooks.onStateLoad?.('cache', 0);
      return { version: base.version, state: base.state };
    }
    const events = await this.store.read({
      topic: at.topic,
      partition: at.partition,
      stream,
      fromOffset: base.offset + 1,
      afterVersion: base.version,
      untilVersion: at.version,
    });
    let state: unknown;
    try {
      state = fold(module, base.state, events);
    } catch (error) {
      throw new ModuleError(module.category, stream, `evolve threw: ${(error as Error).message}`, error);
    }
    this.hooks.onStateLoad?.('log', events.length);
    const last = events[events.length - 1] as StreamEvent;
    if (key !== undefined) {
      await this.cache
        ?.put(key, { version: at.version, partition: at.partition, offset: last.offset, state })
        .catch(() => false);
    }
    return { version: at.version, state };
  }

  private async remember(module: CommandModule, stream: string, outcome: AppendOutcome, state: unknown): Promise<void> {
    if (!this.cache) return;
    const key = this.cache.key(module.category, module.stateVersion, stream);
    // The cache only saves reads: failing to write it loses nothing.
    await this.cache
      .put(key, { version: outcome.lastVersion, partition: outcome.partition, offset: outcome.offset, state })
      .catch(() => false);
  }

  private backoff(attempt: number): Promise<void> {
    const cap = Math.min(this.settings.retryMaxMs, this.settings.retryBaseMs * 2 ** (attempt - 1));
    return new Promise((resolve) => setTimeout(resolve, Math.random() * cap));
  }
}
