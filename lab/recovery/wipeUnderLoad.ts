import { setTimeout as sleep } from 'node:timers/promises';
import { LOCAL_DEV_KEY } from '../../pipeline/config/config.js';
import { failoverWindows } from '../../verify/load/failoverWindows.js';
import { runWorkload } from '../../verify/load/workload.js';
import type { GuardProcess } from '../../verify/processes/guardProcess.js';
import type { PrivateRedis } from '../../verify/processes/privateRedis.js';
import { waitFor } from '../../verify/processes/waitFor.js';
import { type RebuildLine, type RefusalWindow, refusalWindow } from './recoveryFigures.js';
import type { WatchedHistory } from './watchedHistory.js';

/** What one wipe cost the clients, and the guard's own account of its rebuild. */
export interface WipeOutcome {
  faultMs: number;
  window: RefusalWindow;
  /** Longest time without any written append, from the wipe on (failoverWindows). */
  longestGapMs: number;
  /** The rebuild's line from the guard that held the rebuild lease, when it came. */
  rebuild: RebuildLine | undefined;
  /** Logical appends written over the whole phase. */
  written: number;
}

/**
 * Writers on 40 streams through every guard for `loadMs`; then the private Redis is wiped (kill -9, its files
 * removed, started empty: what docs/guard.md calls "Redis restarted empty"); the load goes on until an append that
 * started after the first 503 is written, and half a second more.
 */
export async function wipeUnderLoad(args: {
  redis: PrivateRedis;
  guards: readonly GuardProcess[];
  history: WatchedHistory;
  /** Rebuild lines the guards have logged so far; the phase waits for one more. */
  rebuilds: readonly RebuildLine[];
  loadMs: number;
  category: string;
  timeoutMs: number;
}): Promise<WipeOutcome> {
  const abort = new AbortController();
  const load = runWorkload({
    urls: args.guards.map((g) => g.url),
    apiKey: LOCAL_DEV_KEY,
    category: args.category,
    streams: 40,
    concurrency: 16,
    maxEventsPerAppend: 3,
    timeoutMs: 5_000,
    // A client retries a 503 with the same ids (backoff doubling from 25 ms to 1 s): enough tries to outlast a rebuild.
    maxAttempts: 30,
    durationMs: args.loadMs + args.timeoutMs,
    history: args.history,
    signal: abort.signal,
  });
  let faultMs = 0;
  let window: RefusalWindow | undefined;
  try {
    await sleep(args.loadMs);
    const rebuildsBefore = args.rebuilds.length;
    faultMs = Date.now();
    await args.redis.loseEverything();
    window = await waitFor(
      'an append written again after the wipe',
      () => refusalWindow(args.history.attempts, faultMs),
      args.timeoutMs,
      100,
    );
    await sleep(500);
    abort.abort();
    const stats = await load;
    const rebuild = await waitFor('the guard to log its rebuild', () => args.rebuilds[rebuildsBefore], 10_000).catch(
      () => undefined,
    );
    const [after] = failoverWindows(args.history.attempts, [faultMs], Date.now());
    return { faultMs, window, longestGapMs: after?.longestGapMs ?? Number.NaN, rebuild, written: stats.written };
  } finally {
    abort.abort();
    await load.catch(() => {});
  }
}
