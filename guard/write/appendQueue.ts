import type { KesError } from '../../pipeline/errors.js';
import type { AppendOutcome } from '../append/appendOutcome.js';
import type { PreparedAppend } from '../append/preparedAppend.js';
import { cutGroup } from './cutGroup.js';

/**
 * Appends waiting for a group commit. Writers take as many as fit in one transaction; an append that must wait
 * (its stream has a reservation in flight, the guard is recovering) goes back with a delay. Each append has a
 * deadline: past it, it is answered with whatever is known (nothing written, or outcome unknown).
 */
export interface QueuedAppend extends Pending {
  append: PreparedAppend;
  resolve(outcome: AppendOutcome): void;
}

/**
 * An atomic batch (`POST /appends` with `atomic: true`): its appends are taken together, reserved together and
 * written in one transaction of their own, or not at all.
 */
export interface QueuedAtomic extends Pending {
  atomic: readonly PreparedAppend[];
  /** Every member's outcome, in request order. */
  resolve(outcomes: AppendOutcome[]): void;
  /** Refused for a member's own reason: `errors[i]` is member i's error; members without one are aborted with it. */
  refuse(errors: readonly (KesError | undefined)[]): void;
}

/** What the queue holds and a writer takes: one append, or one atomic batch. */
export type QueuedUnit = QueuedAppend | QueuedAtomic;

interface Pending {
  /** The batch answered as one (expiry, not ready, outcome unknown): an atomic batch's first member carries it. */
  reject(error: unknown): void;
  deadline: number;
  attempts: number;
  /** Set once the append was in a transaction whose commit outcome was not learned. */
  maybeWritten: boolean;
  /** Set once resolve, refuse or reject was called. */
  settled?: boolean;
  enqueuedAt: number;
}

export const isAtomic = (unit: QueuedUnit): unit is QueuedAtomic => 'atomic' in unit;

export function eventsOf(unit: QueuedUnit): number {
  if (!isAtomic(unit)) return unit.append.events.length;
  let n = 0;
  for (const a of unit.atomic) n += a.events.length;
  return n;
}

export class AppendQueue {
  private ready: QueuedUnit[] = [];
  private readyEvents = 0;
  private delayed = 0;
  private waiters: (() => void)[] = [];
  private closed = false;
  /** Groups taken and not yet finished (writers committing): see `shouldLinger`. */
  private committing = 0;
  private readonly sweeper: NodeJS.Timeout;

  /**
   * `onExpired` answers an append that cannot be written in time. `failFast` says the guard cannot write at all
   * now (state being rebuilt): appends that were never in a transaction are then answered at once (503, nothing
   * written) rather than held until their deadline.
   */
  constructor(
    private readonly onExpired: (item: QueuedUnit) => void,
    private readonly failFast: () => boolean = () => false,
  ) {
    // Writers may not take anything for a while (recovering); deadlines still hold.
    this.sweeper = setInterval(() => this.sweep(), 100);
    this.sweeper.unref();
  }

  private sweep(): void {
    if (this.ready.length === 0) return;
    const now = Date.now();
    const failAll = this.failFast();
    const keep: QueuedUnit[] = [];
    for (const item of this.ready) {
      if (item.deadline <= now || (failAll && !item.maybeWritten)) this.onExpired(item);
      else keep.push(item);
    }
    if (keep.length !== this.ready.length) {
      this.ready = keep;
      this.readyEvents = keep.reduce((n, item) => n + eventsOf(item), 0);
    }
  }

  get size(): number {
    return this.ready.length + this.delayed;
  }

  push(item: QueuedUnit): void {
    if (this.closed) {
      this.onExpired(item);
      return;
    }
    this.ready.push(item);
    this.readyEvents += eventsOf(item);
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Back into the queue after `delayMs` (a stream busy with another reservation, a writer recovering). */
  retryLater(item: QueuedUnit, delayMs: number): void {
    item.attempts += 1;
    if (Date.now() + delayMs >= item.deadline) {
      this.onExpired(item);
      return;
    }
    this.delayed += 1;
    setTimeout(() => {
      this.delayed -= 1;
      this.push(item);
    }, delayMs).unref();
  }

  /**
   * Resolves with the next group: at least one append, then whatever arrives within `lingerMs`, up to `maxEvents`
   * events (an append is never split). Resolves with [] once closed.
   */
  async take(maxEvents: number, lingerMs: number): Promise<QueuedUnit[]> {
    while (this.ready.length === 0) {
      if (this.closed) return [];
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (shouldLinger(lingerMs, this.committing, this.readyEvents, maxEvents)) {
      await new Promise<void>((resolve) => setTimeout(resolve, lingerMs));
    }
    const { group, expired, rest } = cutGroup(this.ready, maxEvents, Date.now(), eventsOf, isAtomic);
    for (const item of expired) this.onExpired(item);
    this.ready = rest;
    this.readyEvents = rest.reduce((n, item) => n + eventsOf(item), 0);
    return group;
  }

  /** A writer took a group and is committing it: later takes may linger for more (see `shouldLinger`). */
  committed<T>(commit: () => Promise<T>): Promise<T> {
    this.committing += 1;
    return commit().finally(() => {
      this.committing -= 1;
    });
  }

  close(): void {
    this.closed = true;
    clearInterval(this.sweeper);
    for (const item of this.ready) this.onExpired(item);
    this.ready = [];
    this.readyEvents = 0;
    for (const wake of this.waiters) wake();
    this.waiters = [];
  }
}

/**
 * Linger only while another group is committing. Then the load is high enough that waiting a little makes the next
 * transaction larger at no cost in latency (its events would wait for a writer or the broker anyway); when every
 * writer is idle, an append is written at once, so a lone client waits for nothing but its own transaction.
 */
export function shouldLinger(lingerMs: number, committing: number, readyEvents: number, maxEvents: number): boolean {
  return lingerMs > 0 && committing > 0 && readyEvents < maxEvents;
}
