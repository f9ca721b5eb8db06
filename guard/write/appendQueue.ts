import type { AppendOutcome } from '../append/appendOutcome.js';
import type { PreparedAppend } from '../append/preparedAppend.js';
import { cutGroup } from './cutGroup.js';

/**
 * Appends waiting for a group commit. Writers take as many as fit in one transaction; an append that must wait
 * (its stream has a reservation in flight, the guard is recovering) goes back with a delay. Each append has a
 * deadline: past it, it is answered with whatever is known (nothing written, or outcome unknown).
 */
export interface QueuedAppend {
  append: PreparedAppend;
  resolve(outcome: AppendOutcome): void;
  reject(error: unknown): void;
  deadline: number;
  attempts: number;
  /** Set once the append was in a transaction whose commit outcome was not learned. */
  maybeWritten: boolean;
  /** Set once resolve or reject was called. */
  settled?: boolean;
  enqueuedAt: number;
}

export class AppendQueue {
  private ready: QueuedAppend[] = [];
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
    private readonly onExpired: (item: QueuedAppend) => void,
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
    const keep: QueuedAppend[] = [];
    for (const item of this.ready) {
      if (item.deadline <= now || (failAll && !item.maybeWritten)) this.onExpired(item);
      else keep.push(item);
    }
    if (keep.length !== this.ready.length) {
      this.ready = keep;
      this.readyEvents = keep.reduce((n, item) => n + item.append.events.length, 0);
    }
  }

  get size(): number {
    return this.ready.length + this.delayed;
  }

  push(item: QueuedAppend): void {
    if (this.closed) {
      this.onExpired(item);
      return;
    }
    this.ready.push(item);
    this.readyEvents += item.append.events.length;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Back into the queue after `delayMs` (a stream busy with another reservation, a writer recovering). */
  retryLater(item: QueuedAppend, delayMs: number): void {
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
  async take(maxEvents: number, lingerMs: number): Promise<QueuedAppend[]> {
    while (this.ready.length === 0) {
      if (this.closed) return [];
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (shouldLinger(lingerMs, this.committing, this.readyEvents, maxEvents)) {
      await new Promise<void>((resolve) => setTimeout(resolve, lingerMs));
    }
    const { group, expired, rest } = cutGroup(this.ready, maxEvents, Date.now());
    for (const item of expired) this.onExpired(item);
    this.ready = rest;
    this.readyEvents = rest.reduce((n, item) => n + item.append.events.length, 0);
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
