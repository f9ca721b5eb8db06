/**
 * The guards a client may send to, and which of them seem down. A guard that timed out or refused a connection is
 * skipped for `downMs` by every client sharing the pool, so that one dead or stopped guard costs each client at most
 * one attempt's timeout instead of one per request: the retry (same event ids, same command id) goes to the next
 * guard, and the guards' compare-and-swap and idempotency make that safe. When every guard is marked down the least
 * recently marked is tried anyway: a client never stops trying because of its own bookkeeping.
 */
export interface GuardPoolOptions {
  /** How long a guard that failed an attempt is skipped. @default 3000 */
  downMs?: number;
  /** The clock (tests). @default Date.now */
  now?: () => number;
}

export class GuardPool {
  readonly urls: readonly string[];
  private readonly downUntil: number[];
  private readonly downMs: number;
  private readonly now: () => number;

  constructor(urls: string | readonly string[], options: GuardPoolOptions = {}) {
    this.urls = (typeof urls === 'string' ? [urls] : [...urls]).map((u) => u.replace(/\/+$/, ''));
    if (this.urls.length === 0) throw new Error('a guard pool needs at least one guard URL');
    this.downUntil = this.urls.map(() => 0);
    this.downMs = options.downMs ?? 3_000;
    this.now = options.now ?? Date.now;
  }

  /** The first guard from `preferred` on (round robin) that is not marked down; else the one down the longest. */
  pick(preferred = 0): string {
    const n = this.urls.length;
    const now = this.now();
    let fallback = preferred % n;
    for (let i = 0; i < n; i++) {
      const at = (preferred + i) % n;
      if ((this.downUntil[at] as number) <= now) return this.urls[at] as string;
      if ((this.downUntil[at] as number) < (this.downUntil[fallback] as number)) fallback = at;
    }
    return this.urls[fallback] as string;
  }

  /** The guard did not answer (timeout, refused, reset) or answered 503: others first for a while. */
  markDown(url: string): void {
    const at = this.urls.indexOf(url);
    if (at >= 0) this.downUntil[at] = this.now() + this.downMs;
  }

  /** The guard answered: use it again at once. */
  markUp(url: string): void {
    const at = this.urls.indexOf(url);
    if (at >= 0) this.downUntil[at] = 0;
  }
}
