import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { GuardProcess } from '../../verify/processes/guardProcess.js';

/** The moment the guard stopped serving and what it held then. */
export interface KillMoment {
  /** When the guard was stopped (SIGSTOP) for the last time: from then on it wrote nothing. */
  faultMs: number;
  /** Streams locked by its reservations when it was killed: what its death leaves for the lease to free. */
  locksHeld: number;
}

/** A stream locked by a reservation in flight, and when that reservation was made. */
export interface HeldLock {
  stream: string;
  reservation: string;
  reservedAtMs: number;
}

/** How long the stopped guard's reservations are given to stand out from the other guard's, which settle in ms. */
const SETTLE_MS = 200;

/**
 * Streams whose names start with `streamPrefix` locked by a reservation in flight, over every partition under the
 * key prefix: a `lock` hash maps a stream to the reservation holding it, `res` maps a reservation to its slot and
 * deadline (guard/protocol/keys.ts); the deadline less the reservation length is when it was made.
 */
export async function heldLocks(
  redis: Redis,
  where: { keyPrefix: string; streamPrefix: string; reservationMs: number },
): Promise<HeldLock[]> {
  const held: HeldLock[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${where.keyPrefix}{*}:lock`, 'COUNT', 500);
    cursor = next;
    for (const key of keys) {
      const res = `${key.slice(0, -':lock'.length)}:res`;
      for (const [stream, lock] of Object.entries(await redis.hgetall(key))) {
        if (!stream.startsWith(where.streamPrefix)) continue;
        const reservation = lock.split('|')[0] as string;
        const record = await redis.hget(res, reservation);
        // A lock whose reservation is settled no longer holds its stream.
        if (record === null) continue;
        held.push({ stream, reservation, reservedAtMs: Number(record.split('|')[1]) - where.reservationMs });
      }
    }
  } while (cursor !== '0');
  return held;
}

/**
 * Kills the guard (kill -9) at a moment it holds a reservation. A kill at a fixed time lands between two appends as
 * often as inside one, and a guard that dies between appends leaves nothing locked: the stall measured would be luck.
 * So the guard is stopped (SIGSTOP) and, SETTLE_MS later, Redis is asked for reservations made before the stop and
 * still open: the other guard goes on writing and settles its own within milliseconds, so those are the stopped
 * guard's. None: it runs on a little and is tried again. After `maxTries` it is killed holding nothing, which
 * `locksHeld: 0` says.
 */
export async function killHoldingReservation(
  victim: GuardProcess,
  where: { redis: Redis; keyPrefix: string; streamPrefix: string; reservationMs: number },
  maxTries = 40,
): Promise<KillMoment> {
  for (let tries = 1; ; tries++) {
    const faultMs = Date.now();
    victim.signal('SIGSTOP');
    await sleep(SETTLE_MS);
    const locksHeld = (await heldLocks(where.redis, where)).filter((l) => l.reservedAtMs < faultMs).length;
    if (locksHeld > 0 || tries >= maxTries) {
      await victim.kill();
      return { faultMs, locksHeld };
    }
    victim.signal('SIGCONT');
    // At least as long running as stopped: a guard stopped most of the time misses renewing its slot lease (as
    // short as 1 s), is fenced by the other guard and gets no more appends to be caught with. Varied, so that the
    // stops do not fall in step with the writers.
    await sleep(SETTLE_MS + 100 * (tries % 3));
  }
}
