import type { ChainableCommander, Redis } from 'ioredis';
import type { Expected } from '../append/expectedVersion.js';
import { idCheck, idField, shapeArgs, type WindowShape } from './idWindow.js';
import type { KeySpace, PartitionKeys } from './keys.js';
import {
  APPLY_IDS,
  APPLY_VERSIONS,
  CONFIRM,
  FORGET_WINDOW,
  LOOKUP_ID,
  RELEASE,
  RESERVE,
  RESOLVE,
} from './scripts.lua.js';

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
type Arg = string | number | Buffer;
type ScriptFn = (...args: Arg[]) => Promise<unknown>;

const SCRIPTS = {
  kesReserve: { lua: RESERVE, numberOfKeys: 9 },
  kesConfirm: { lua: CONFIRM, numberOfKeys: 10 },
  kesRelease: { lua: RELEASE, numberOfKeys: 8 },
  kesApplyIds: { lua: APPLY_IDS, numberOfKeys: 3 },
  kesApplyVersions: { lua: APPLY_VERSIONS, numberOfKeys: 6 },
  kesResolve: { lua: RESOLVE, numberOfKeys: 8 },
  kesForgetWindow: { lua: FORGET_WINDOW, numberOfKeys: 3 },
  kesLookupId: { lua: LOOKUP_ID, numberOfKeys: 3 },
} as const;

export function defineScripts(redis: Redis): void {
  for (const [name, definition] of Object.entries(SCRIPTS)) {
    if (!(name in redis)) redis.defineCommand(name, definition);
  }
}

function call(sender: Sender, name: keyof typeof SCRIPTS, args: Arg[]): Promise<unknown> {
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
  const args: Arg[] = [pk.ver, pk.lock, pk.res, pk.wm, keys.gen, keys.rebuild, pk.fly, pk.flr, pk.idm];
  args.push(v.gen, v.runId, reservation.resId, reservation.slot, reservation.ttlMs);
  args.push(pk.topic, pk.partition, appends.length);
  for (const a of appends) {
    args.push(a.stream, String(a.expected), a.events.length);
    for (const e of a.events) args.push(e.id, idField(e.id), idCheck(a.stream, e.hash));
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
  c: { resId: string; window: WindowShape; lastOffset: number },
  events: readonly ConfirmEvent[],
): Promise<unknown> {
  const args: Arg[] = [pk.ver, pk.lock, pk.res, pk.wm, keys.gen, keys.rebuild, pk.seen, pk.fly, pk.flr, pk.idm];
  args.push(v.gen, v.runId, c.resId, ...shapeArgs(c.window), c.lastOffset, events.length);
  for (const e of events) args.push(idField(e.id), idCheck(e.stream, e.hash), e.version, e.offset);
  return call(sender, 'kesConfirm', args);
}

/** The keys of the scripts that settle a reservation (release, resolve: SETTLE in scripts.lua.ts). */
function settleKeys(keys: KeySpace, pk: PartitionKeys): string[] {
  return [pk.ver, pk.lock, pk.res, keys.gen, keys.rebuild, pk.seen, pk.fly, pk.flr];
}

/** Undo a reservation whose transaction can no longer commit; 'stale' (nothing done) on state not validated. */
export function release(
  sender: Sender,
  keys: KeySpace,
  pk: PartitionKeys,
  v: Validated,
  resId: string,
): Promise<unknown> {
  return call(sender, 'kesRelease', [...settleKeys(keys, pk), v.gen, v.runId, resId]);
}

export function resolve(
  sender: Sender,
  keys: KeySpace,
  pk: PartitionKeys,
  v: Validated,
  resId: string,
  found: boolean,
): Promise<unknown> {
  return call(sender, 'kesResolve', [...settleKeys(keys, pk), v.gen, v.runId, resId, found ? 1 : 0]);
}

/** Most events per applyIds call (a few thousand keep one call short next to the guard's own scripts). */
export const APPLY_IDS_MAX = 2500;
/** Values per event in an applyIds batch: field, check, version, offset, time ms, boundary (1 or 0). */
export const APPLY_IDS_WIDTH = 6;

/** Bytes per event in an applyIds call (APPLY_IDS in scripts.lua.ts). */
const APPLY_IDS_BYTES = 16 + 4 + 8 + 8 + 8 + 1;

/**
 * Records idempotency entries of one partition read back from Kafka, in offset order: `entries` is flat,
 * APPLY_IDS_WIDTH values per event (readBackRecord.ts builds them), at most APPLY_IDS_MAX events, sent packed in one
 * argument. 'stale' (nothing written) on state not validated.
 */
export function applyIds(
  sender: Sender,
  keys: KeySpace,
  pk: PartitionKeys,
  v: Validated,
  window: WindowShape,
  entries: readonly Arg[],
): Promise<unknown> {
  if (entries.length % APPLY_IDS_WIDTH !== 0 || entries.length / APPLY_IDS_WIDTH > APPLY_IDS_MAX) {
    throw new Error(`applyIds takes up to ${APPLY_IDS_MAX} events of ${APPLY_IDS_WIDTH} values, got ${entries.length}`);
  }
  const count = entries.length / APPLY_IDS_WIDTH;
  const packed = Buffer.alloc(count * APPLY_IDS_BYTES);
  for (let e = 0, at = 0; e < count; e++, at += APPLY_IDS_BYTES) {
    const i = e * APPLY_IDS_WIDTH;
    const field = entries[i];
    const check = entries[i + 1];
    if (!Buffer.isBuffer(field) || field.length !== 16 || !Buffer.isBuffer(check) || check.length !== 4) {
      throw new Error(`applyIds event ${e}: field and check must be 16 and 4 bytes`);
    }
    field.copy(packed, at);
    check.copy(packed, at + 16);
    packed.writeDoubleBE(Number(entries[i + 2]), at + 20);
    packed.writeDoubleBE(Number(entries[i + 3]), at + 28);
    packed.writeDoubleBE(Number(entries[i + 4]), at + 36);
    packed.writeUInt8(Number(entries[i + 5]) === 1 ? 1 : 0, at + 44);
  }
  return call(sender, 'kesApplyIds', [
    pk.idm,
    keys.gen,
    keys.rebuild,
    v.gen,
    v.runId,
    ...shapeArgs(window),
    count,
    packed,
  ]);
}

/** What the window of the event's partition says of an event id: written (version, offset), pending or unknown. */
export async function lookupId(
  sender: Redis,
  pk: PartitionKeys,
  eventId: string,
): Promise<{ version: number; offset: number } | 'pending' | undefined> {
  const raw = await call(sender, 'kesLookupId', [pk.res, pk.fly, pk.idm, idField(eventId)]);
  if (!Array.isArray(raw)) throw new Error(`unexpected lookupId answer ${JSON.stringify(raw)}`);
  if (raw[0] === 'pending') return 'pending';
  if (raw[0] === 'written') return { version: Number(raw[1]), offset: Number(raw[2]) };
  return undefined;
}

/** Deletes a partition's idempotency window (a rebuild from scratch). */
export function forgetWindow(sender: Sender, pk: PartitionKeys): Promise<unknown> {
  return call(sender, 'kesForgetWindow', [pk.idm, pk.fly, pk.flr]);
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
