import type { AppendOutcome } from '../append/appendOutcome.js';
import type { CommandModule } from './decider.js';
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
