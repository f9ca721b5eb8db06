import { ModuleError } from '../../pipeline/errors.js';
import type { AppendOutcome } from '../append/appendOutcome.js';
import type { CommandStore } from './commandStore.js';
import { type CommandModule, fold } from './decider.js';
import type { StateCache } from './stateCache.js';
import type { StreamEvent } from './streamEvents.js';

/** A stream's state as a command is decided on it, and the version it is exact at. */
export interface Loaded {
  version: number;
  state: unknown;
}

/**
 * Loads a stream's state at its committed version for the command handler: the cached state (stateCache.ts), plus
 * the events after it read from Kafka and folded, or the module's initial state for a stream without events. The
 * state a committed append leaves is remembered, so the stream's next command starts from it.
 */
export class StateLoader {
  constructor(
    private readonly store: Pick<CommandStore, 'locate' | 'read'>,
    private readonly cache: StateCache | undefined,
    private readonly onStateLoad?: (source: 'cache' | 'log' | 'empty', eventsRead: number) => void,
  ) {}

  /** The stream's state at its committed version. */
  async load(module: CommandModule, stream: string): Promise<Loaded> {
    const key = this.cache?.key(module.category, module.stateVersion, stream);
    // Side by side: an entry read before the version is exact at its own version all the same (below).
    const [at, cached] = await Promise.all([
      this.store.locate(stream),
      key === undefined ? undefined : this.cache?.get(key),
    ]);
    if (at.version < 0 || at.partition === undefined) {
      this.onStateLoad?.('empty', 0);
      return { version: -1, state: module.initialState() };
    }
    // An entry from before a repartitioning is not used. An entry ahead of the version read is another writer's
    // commit that landed between the two reads: it is committed, so it is exact at its version, and the
    // compare-and-swap on that version is as good as on any other.
    const base =
      cached && cached.partition === at.partition ? cached : { version: -1, offset: -1, state: module.initialState() };
    if (base.version >= at.version) {
      this.onStateLoad?.('cache', 0);
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
    this.onStateLoad?.('log', events.length);
    const last = events[events.length - 1] as StreamEvent;
    if (key !== undefined) {
      await this.cache
        ?.put(key, { version: at.version, partition: at.partition, offset: last.offset, state })
        .catch(() => false);
    }
    return { version: at.version, state };
  }

  async remember(module: CommandModule, stream: string, outcome: AppendOutcome, state: unknown): Promise<void> {
    if (!this.cache) return;
    const key = this.cache.key(module.category, module.stateVersion, stream);
    // The cache only saves reads: failing to write it loses nothing.
    await this.cache
      .put(key, { version: outcome.lastVersion, partition: outcome.partition, offset: outcome.offset, state })
      .catch(() => false);
  }
}
