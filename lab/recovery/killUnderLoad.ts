import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { LOCAL_DEV_KEY } from '../../pipeline/config/config.js';
import { measureStall } from '../../verify/load/stall.js';
import type { GuardProcess } from '../../verify/processes/guardProcess.js';
import { runHotStreamWriters } from '../contention/hotStreamWriters.js';
import { killHoldingReservation } from './killHoldingReservation.js';
import { type StreamStall, streamStall } from './recoveryFigures.js';
import type { WatchedHistory } from './watchedHistory.js';

/** What killing one guard of two cost the writers. */
export interface KillOutcome {
  leaseMs: number;
  /** After the kill: the stream that went longest without a written append. */
  after: StreamStall;
  /** The same figure before the kill, over as long a window: what a gap looks like without a fault. */
  before: StreamStall;
  /** Longest gap with no append written on any stream, after the kill. */
  anyStreamGapMs: number;
  /** Reservations of the dead guard the survivor resolved (kes_guard_recoveries_total{kind="resolve_…"}). */
  resolves: number;
  /** Streams the guard held locked when it died. */
  locksHeld: number;
  written: number;
}

const STREAMS = 8;
const WRITERS_PER_STREAM = 2;
/** Stop-and-look rounds before the guard is killed whatever it holds (each about 400-600 ms). */
const KILL_TRIES = 40;

async function resolvesOf(url: string): Promise<number> {
  const text = await fetch(`${url}/metrics`)
    .then((r) => r.text())
    .catch(() => '');
  let total = 0;
  for (const line of text.split('\n'))
    if (line.startsWith('kes_guard_recoveries_total{') && line.includes('kind="resolve_'))
      total += Number(line.split(' ').pop());
  return total;
}

/**
 * Two guards whose reservations last `leaseMs`; on each of 8 streams two writers of its own (read-decide-append,
 * one on each guard, moving to the survivor at once when theirs refuses connections). After `loadMs` the second
 * guard is killed -9 at a moment it holds a reservation (killHoldingReservation.ts). Its reservations lock their
 * streams until they expire and the survivor resolves them; the stall is measured over the lease and 2 s more. A writer keeps to its stream, so a locked stream holds up only its
 * own writers, as with services that each own their streams.
 */
export async function killUnderLoad(args: {
  guards: readonly [GuardProcess, GuardProcess];
  leaseMs: number;
  loadMs: number;
  history: WatchedHistory;
  category: string;
  /** The guards' Redis and key prefix, where the victim's reservations are seen. */
  redis: Redis;
  redisPrefix: string;
}): Promise<KillOutcome> {
  const [survivor, victim] = args.guards;
  const windowMs = args.leaseMs + 2_000;
  const started = Date.now();
  // The load lasts until the window after the kill has passed, however long catching the guard holding a
  // reservation takes (KILL_TRIES rounds at most).
  const stop = new AbortController();
  const load = Promise.all(
    Array.from({ length: STREAMS }, (_, s) =>
      runHotStreamWriters({
        urls: [victim.url, survivor.url],
        apiKey: LOCAL_DEV_KEY,
        stream: `${args.category}-${s}`,
        writers: WRITERS_PER_STREAM,
        durationMs: args.loadMs + KILL_TRIES * 600 + windowMs,
        stop: stop.signal,
        history: args.history,
        clientPrefix: `${args.category}-${s}-`,
      }),
    ),
  );
  try {
    await sleep(args.loadMs);
    const kill = await killHoldingReservation(
      victim,
      {
        redis: args.redis,
        keyPrefix: args.redisPrefix,
        streamPrefix: `${args.category}-`,
        reservationMs: args.leaseMs,
      },
      KILL_TRIES,
    );
    const faultMs = kill.faultMs;
    await sleep(Math.max(0, faultMs + windowMs - Date.now()));
    stop.abort();
    const endMs = Date.now();
    const tallies = await load;
    const attempts = args.history.attempts.filter((a) => a.stream.startsWith(`${args.category}-`));
    // Half a lease without a write on a stream written every few ms is a stall, not a slow append.
    const overMs = args.leaseMs / 2;
    return {
      leaseMs: args.leaseMs,
      after: streamStall(attempts, faultMs, endMs, overMs),
      before: streamStall(attempts, Math.max(started + 1_000, faultMs - windowMs), faultMs, overMs),
      anyStreamGapMs: measureStall(
        attempts.filter((a) => a.outcome.status === 'ok').map((a) => a.endMs),
        faultMs,
        endMs,
      ).longestGapMs,
      resolves: await resolvesOf(survivor.url),
      locksHeld: kill.locksHeld,
      written: tallies.reduce((n, t) => n + t.successes + t.late, 0),
    };
  } finally {
    stop.abort();
    await load.catch(() => {});
  }
}
