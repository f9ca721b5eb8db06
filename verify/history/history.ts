import { closeSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { Expected } from '../../guard/append/expectedVersion.js';
import { UsageError } from '../../pipeline/errors.js';

/**
 * The history log: what clients (test workloads, the benchmark) tried and what they were told. JSONL, one
 * attempt per line. `kes check` compares it with what Kafka committed.
 *
 * Several attempts of one logical append (retries) carry the same event ids. Times are the client's wall clock in
 * ms since the epoch: `startMs` before the request was sent, `endMs` after the answer (or the failure) arrived.
 */

export type AttemptOutcome =
  /** Answered as written: the events are at versions firstVersion..lastVersion; `offset` is the last event's. */
  | { status: 'ok'; firstVersion: number; lastVersion: number; topic: string; partition: number; offset: number }
  /** 409 wrong_expected_version: nothing written; `actual` is the stream's version the guard saw. */
  | { status: 'conflict'; actual: number }
  /** 400/401/403/409 event_id_conflict/413/503 not_ready: nothing written. */
  | { status: 'rejected'; httpStatus: number; code: string }
  /** Timeout, cut connection, 500 outcome_unknown: written once or not at all. */
  | { status: 'indeterminate'; reason: string };

export interface AppendAttempt {
  op: 'append';
  /** Who made the attempt (a workload worker, a benchmark connection). */
  client: string;
  stream: string;
  expectedVersion: Expected;
  eventIds: string[];
  /** 1 for the first try of a logical append, 2 for its first retry, … */
  attempt: number;
  startMs: number;
  endMs: number;
  /**
   * The attempts of one atomic batch (appendAtomically) carry the same group, its items and their retries alike:
   * the checker asserts the group is in the log entirely or not at all, in one transaction.
   */
  atomicGroup?: string;
  outcome: AttemptOutcome;
}

export type AttemptStatus = AttemptOutcome['status'];
export const attemptStatuses: readonly AttemptStatus[] = ['ok', 'conflict', 'rejected', 'indeterminate'];

const nonNegInt = z.number().int().min(0);

const outcomeSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('ok'),
    firstVersion: nonNegInt,
    lastVersion: nonNegInt,
    topic: z.string().min(1),
    partition: nonNegInt,
    offset: nonNegInt,
  }),
  // -1 (or below): the stream did not exist.
  z.object({ status: z.literal('conflict'), actual: z.number().int() }),
  z.object({ status: z.literal('rejected'), httpStatus: z.number().int().min(100).max(599), code: z.string() }),
  z.object({ status: z.literal('indeterminate'), reason: z.string() }),
]);

const attemptSchema = z.object({
  op: z.literal('append'),
  client: z.string(),
  stream: z.string().min(1),
  expectedVersion: z.union([z.number().int(), z.enum(['any', 'no_stream', 'stream_exists'])]),
  eventIds: z.array(z.string().min(1)),
  attempt: z.number().int().min(1),
  startMs: z.number().finite(),
  endMs: z.number().finite(),
  atomicGroup: z.string().min(1).optional(),
  outcome: outcomeSchema,
});

/**
 * Appends attempts to a JSONL file (created with its directory when missing; an existing file is appended to).
 * Lines are buffered and written in whole-line chunks, so thousands of records per second cost little, and several
 * processes may append to one file (O_APPEND) without tearing lines. Buffered lines are written when the buffer
 * passes 256 KiB, every 200 ms, and at `close()`; a process killed in between loses at most those.
 */
export class HistoryWriter {
  readonly path: string;
  private fd: number | undefined;
  private pending: string[] = [];
  private pendingBytes = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly flushBytes: number;
  private failure: unknown;

  constructor(path: string, options: { flushBytes?: number; flushIntervalMs?: number } = {}) {
    this.path = path;
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, 'a');
    this.flushBytes = options.flushBytes ?? 256 * 1024;
    this.timer = setInterval(() => this.flushQuietly(), options.flushIntervalMs ?? 200);
    this.timer.unref();
  }

  record(a: AppendAttempt): void {
    if (this.fd === undefined) throw new Error(`history ${this.path} is closed`);
    if (this.failure !== undefined) throw this.failure;
    const line = `${JSON.stringify(a)}\n`;
    this.pending.push(line);
    this.pendingBytes += line.length;
    if (this.pendingBytes >= this.flushBytes) this.flush();
  }

  /** Writes every buffered line now. */
  flush(): void {
    if (this.fd === undefined || this.pending.length === 0) return;
    const chunk = Buffer.from(this.pending.join(''));
    this.pending = [];
    this.pendingBytes = 0;
    let written = 0;
    while (written < chunk.length) written += writeSync(this.fd, chunk, written);
  }

  private flushQuietly(): void {
    try {
      this.flush();
    } catch (error) {
      this.failure ??= error;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    if (this.fd === undefined) return;
    try {
      if (this.failure !== undefined) throw this.failure;
      this.flush();
    } finally {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }
}

/** Parses one line of a history file; throws a UsageError that names the file and the 1-based line number. */
export function parseAttempt(line: string, file: string, lineNumber: number): AppendAttempt {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (error) {
    throw new UsageError(`${file}:${lineNumber}: not JSON (${error instanceof Error ? error.message : error})`, {
      file,
      line: lineNumber,
    });
  }
  const parsed = attemptSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.map(String).join('.')}: ` : '';
    throw new UsageError(`${file}:${lineNumber}: ${where}${issue?.message ?? 'not an append attempt'}`, {
      file,
      line: lineNumber,
    });
  }
  const a = parsed.data as AppendAttempt;
  if (a.endMs < a.startMs) {
    throw new UsageError(`${file}:${lineNumber}: endMs ${a.endMs} is before startMs ${a.startMs}`, {
      file,
      line: lineNumber,
    });
  }
  if (a.outcome.status === 'ok' && a.outcome.lastVersion < a.outcome.firstVersion) {
    throw new UsageError(`${file}:${lineNumber}: outcome.lastVersion is below outcome.firstVersion`, {
      file,
      line: lineNumber,
    });
  }
  return a;
}

/** Reads a whole history file (blank lines are skipped); any bad line fails with the file and line number. */
export function readHistory(path: string): AppendAttempt[] {
  const attempts: AppendAttempt[] = [];
  forEachLine(path, (line, n) => {
    if (line.trim() !== '') attempts.push(parseAttempt(line, path, n));
  });
  return attempts;
}

/** Reads a file line by line in 1 MiB chunks, so files larger than the largest string still work. */
function forEachLine(path: string, onLine: (line: string, lineNumber: number) => void): void {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new UsageError(`cannot read history ${path}: ${error instanceof Error ? error.message : error}`, {
      file: path,
    });
  }
  try {
    const buffer = Buffer.alloc(1024 * 1024);
    let carry: Buffer = Buffer.alloc(0);
    let lineNumber = 0;
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      const data: Buffer = carry.length > 0 ? Buffer.concat([carry, buffer.subarray(0, n)]) : buffer.subarray(0, n);
      let start = 0;
      for (let nl = data.indexOf(10, start); nl !== -1; nl = data.indexOf(10, start)) {
        onLine(data.toString('utf8', start, nl), ++lineNumber);
        start = nl + 1;
      }
      carry = Buffer.from(data.subarray(start));
    }
    if (carry.length > 0) onLine(carry.toString('utf8'), ++lineNumber);
  } finally {
    closeSync(fd);
  }
}
