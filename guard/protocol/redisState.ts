import type { ChainableCommander, Redis } from 'ioredis';
import type { Expected } from '../append/expectedVersion.js';
import type { KeySpace, PartitionKeys } from './keys.js';
import { APPLY_IDS, APPLY_VERSIONS, CONFIRM, RELEASE, RESERVE, RESOLVE } from './scripts.lua.js';

/**
 * Typed calls of the guard's Redis scripts (guard/protocol/scripts.lua.ts). ioredis sends them with EVALSHA and
 * loads them on NOSCRIPT, also inside pipelines, so a group commit is one round trip for all its partitions.
 */

// Re-exported for callers not yet moved to guard/append/expectedVersion.ts (bench/).

export interface ReserveAppend {
  stream: string;
  expected: Expected;
  events: readonly { id: string; hash: string }[];
}

export type ReserveAnswer =
  | { kind: 'ok'; first: number; last: number }
  | { kind: 'dup'; first: number; last: number; topic: string; partition: number; offset: number }
  | { kind: 'idconflict'; eventId: string; why: string }
  | { kind: 'conflict'; actual: number }
  | { kind: 'busy'; holder: string; expired: boolean };

/**
 * The state a script may act on: the generation and Redis run id the guard validated, or, while rebuilding,
 * gen `rebuild:<holder>` (valid only while that guard holds the rebuild lease).
 */
export interface Validated {
  gen: string;
  runId: string;
}

export interface ConfirmEvent {
  id: string;
  stream: string;
  version: number;
  offset: number;
  hash: string;
}

type Sender = Redis | ChainableCommander;
type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

const SCRIPTS = {
  kesReserve: { lua: RESERVE, numberOfKeys: 8 },
  kesConfirm: { lua: CONFIRM, numberOfKeys: 9 },
  kesRelease: { lua: RELEASE, numberOfKeys: 6 },
  kesApplyIds: { lua: APPLY_IDS, numberOfKeys: 4 },
  kesApplyVersions: { lua: APPLY_VERSIONS, numberOfKeys: 6 },
  kesResolve: { lua: RESOLVE, numberOfKeys: 6 },
} as const;

export function defineScripts(redis: Redis): void {
  for (const [name, definition] of Object.entries(SCRIPTS)) {
    if (!(name in redis)) redis.defineCommand(name, definition);
  }
}

function call(sender: Sender, name: keyof typeof SCRIPTS, args: (string | number)[]): Promise<unknown> {
  const fn = (sender as unknown as Record<string, ScriptFn | undefined>)[name];
  if (!fn) throw new Error(`script ${name} is not defined on this Redis client (call defineScripts first)`);
  return fn.call(sender, ...args);
}

export function reserve(
  sender: Sender,
  keys: KeySpace,
  pk: PartitionKeys,
  v: Validated,
  reservation: { resId: string; slot: number; ttlMs: number },
  appends: readonly ReserveAppend[],
): Promise<unknown> {
  const args: (string | number)[] = [pk.ver, pk.lock, pk.res, pk.wm, keys.ids, keys.gen, keys.rebuild, keys.idx];
  args.push(v.gen, v.runId, reservation.resId, reservation.slot, reservation.ttlMs, appends.length);
  for (const a of appends) {
    args.push(a.stream, String(a.expected), a.events.length);
    for (const e of a.events) args.push(e.id, e.hash);
  }
  return call(sender, 'kesReserve', args);
}

/** Turns the script's raw answer into typed answers; 'stale' when Redis no longer holds validated state. */
export function parseReserve(raw: unknown): ReserveAnswer[] | 'stale' {
  if (!Array.isArray(raw)) throw new Error(`unexpected reserve answer ${JSON.stringify(raw)}`);
  if (raw[0] === 'stale') return 'stale';
  return raw.map((r: unknown[]) => {
    switch (r[0]) {
      case 'ok':
        return { kind: 'ok', first: Number(r[1]), last: Number(r[2]) };
      case 'dup':
        return {
          kind: 'dup',
          first: Number(r[1]),
          last: Number(r[2]),
          topic: String(r[3]),
          partition: Number(r[4]),
          offset: Number(r[5]),
        };
      case 'idconflict':
        return { kind: 'idconflict', eventId: String(r[1]), why: String(r[2]) };
      case 'conflict':
        return { kind: 'conflict', actual: Number(r[1]) };
      case 'busy':
        return { kind: 'busy', holder: String(r[1]), expired: Number(r[2]) === 1 };
      default:
        throw new Error(`unexpected reserve answer ${JSON.stringify(r)}`);
    }
  });
}

export function confirm(
  sender: Sender,
  keys: KeySpace,
  pk: PartitionKeys,
  v: Validated,
  c: { resId: string; windowMs: number; topic: string; partition: number; lastOffset: number },
  events: readonly ConfirmEvent[],
): Promise<unknown> {
  const args: (string | number)[] = [
    pk.ver,
    pk.lock,
    pk.res,
    pk.wm,
    keys.ids,
    keys.idx,
    keys.gen,
    keys.rebuild,
    pk.seen,
  ];
  args.push(v.gen, v.runId, c.resId, c.windowMs, c.topic, c.partition, c.lastOffset, events.length);
  for (const e of events) args.push(e.id, e.stream, e.version, e.offset, e.hash);
  return call(sender, 'kesConfirm', args);
}

/** Undo a reservation whose transaction can no longer commit; 'stale' (nothing done) on state not validated. */
export function release(
  sender: Sender,
  keys: KeySpace,
  pk: PartitionKeys,
  v: Validated,
  resId: string,
): Promise<unknown> {
  return call(sender, 'kesRelease', [pk.ver, pk.lock, pk.res, keys.gen, keys.rebuild, pk.seen, v.gen, v.runId, resId]);
}

export function resolve(
  sender: Sender,
  keys: KeySpace,
  pk: PartitionKeys,
  v: Validated,
  resId: string,
  found: boolean,
): Promise<unknown> {
  return call(sender, 'kesResolve', [
    pk.ver,
    pk.lock,
    pk.res,
    keys.gen,
    keys.rebuild,
    pk.seen,
    v.gen,
    v.runId,
    resId,
    found ? 1 : 0,
  ]);
}

/** Most events per applyIds call (the script unpacks two values per event into one command). */
export const APPLY_IDS_MAX = 2500;

/**
 * Records idempotency entries read back from Kafka: `entries` is flat, (id, entry, time ms) per event, at most
 * APPLY_IDS_MAX events. 'stale' (nothing written) on state not validated.
 */
export function applyIds(sender: Sender, keys: KeySpace, v: Validated, entries: readonly string[]): Promise<unknown> {
  if (entries.length % 3 !== 0 || entries.length / 3 > APPLY_IDS_MAX) {
    throw new Error(`applyIds takes up to ${APPLY_IDS_MAX} (id, entry, time) triples, got ${entries.length} values`);
  }
  return call(sender, 'kesApplyIds', [
    keys.ids,
    keys.idx,
    keys.gen,
    keys.rebuild,
    v.gen,
    v.runId,
    entries.length / 3,
    ...entries,
  ]);
}

/**
 * Moves streams' versions forward to what was read back (`pairs` flat: stream, version) and the partition's
 * watermark to `watermark` (-1 leaves it). 'stale' (nothing written) on state not validated.
 */
export function applyVersions(
  sender: Sender,
  keys: KeySpace,
  pk: PartitionKeys,
  v: Validated,
  watermark: number,
  pairs: readonly string[],
): Promise<unknown> {
  return call(sender, 'kesApplyVersions', [
    pk.ver,
    pk.wm,
    keys.gen,
    keys.rebuild,
    pk.lock,
    pk.seen,
    v.gen,
    v.runId,
    watermark,
    pairs.length / 2,
    ...pairs,
  ]);
}

export interface Reservation {
  resId: string;
  slot: number;
  deadlineMs: number;
  /** The partition's watermark when it was made: its events, if any, are above it. */
  watermark: number;
  probeId: string;
  streams: { stream: string; prev: number }[];
}

export function parseReservation(resId: string, text: string): Reservation {
  const [slot, deadline, watermark, probeId, streams] = text.split('|');
  return {
    resId,
    slot: Number(slot),
    deadlineMs: Number(deadline),
    watermark: Number(watermark),
    probeId: probeId ?? '',
    streams: (streams ?? '')
      .split(',')
      .filter(Boolean)
      .map((pair) => {
        const at = pair.lastIndexOf('=');
        return { stream: pair.slice(0, at), prev: Number(pair.slice(at + 1)) };
      }),
  };
}

export async function reservations(redis: Redis, pk: PartitionKeys): Promise<Reservation[]> {
  const all = await redis.hgetall(pk.res);
  return Object.entries(all).map(([id, text]) => parseReservation(id, text));
}
