import type { KesError } from '../../pipeline/errors.js';
import type { AppendOutcome } from '../append/appendOutcome.js';
import type { Expected } from '../append/expectedVersion.js';

/** The shapes the guard client takes and gives for appends (alone, coalesced, in batches). */

export interface NewEvent {
  id?: string;
  type: string;
  data: unknown;
  metadata?: Record<string, unknown>;
}

/** What the guard answers for a written append (the same shape the guard produces). */
export type AppendResult = Omit<AppendOutcome, 'duplicate'> & {
  /** The guard answered from an earlier write of the same ids. */
  duplicate?: boolean;
};

/** One append of a batch (`appendMany`, `appendAtomically`). */
export interface AppendItem {
  stream: string;
  events: readonly NewEvent[];
  expectedVersion: Expected;
}

/** One append's outcome in `appendMany`: its result or its typed error, never thrown. */
export type AppendManyResult =
  | { ok: true; stream: string; result: AppendResult }
  | { ok: false; stream: string; error: KesError };

export interface AttemptReport {
  stream: string;
  expectedVersion: Expected;
  eventIds: string[];
  attempt: number;
  startMs: number;
  endMs: number;
  /** Set on the attempts of an atomic batch: the same for all its items and all its retries. */
  atomicGroup?: string;
  outcome:
    | { status: 'ok'; result: AppendResult }
    | { status: 'conflict'; actual: number }
    | { status: 'rejected'; httpStatus: number; code: string }
    | { status: 'indeterminate'; reason: string };
}

/**
 * How `appendToStream` sends concurrent calls: as batch requests (`POST /appends`) of the appends pending within
 * `lingerMs` of the first, or as soon as `maxAppends` or `maxBytes` are pending; `false` sends each call alone
 * (`POST /streams/:stream/events`).
 */
export interface CoalesceOptions {
  /** The longest a call waits for others to join its request. @default 1 */
  lingerMs?: number;
  /** Appends per request at most (the guard takes up to KES_MAX_BATCH_APPENDS, default 1000). @default 256 */
  maxAppends?: number;
  /** Body bytes per request at most (below the guard's KES_MAX_BODY_BYTES, default 1 MiB). @default 900000 */
  maxBytes?: number;
}
