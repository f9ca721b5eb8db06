import { createHash } from 'node:crypto';

/**
 * What the guard's idempotency window stores per event, computed here so that Redis only compares and packs bytes
 * (guard/protocol/scripts.lua.ts, WINDOW). Per partition, event ids live in a ring of generations; each generation
 * is a set of small hashes (buckets) that Redis keeps listpack-encoded (hash-max-listpack-entries, 512 by default),
 * where an entry costs its bytes plus two or three, instead of a hashtable's ~100 bytes of pointers per entry.
 *
 * - field: the 16 raw bytes of a lowercase uuid (any other id: the first 16 bytes of its SHA-1). 128 bits leave
 *   no room for two ids of one partition's window to meet by chance.
 * - check: 4 bytes of FNV-1a over stream and content hash. A retry matches it; an id reused on another stream or
 *   with other content does not, except with odds of 2^-32 (then that reuse is answered as a duplicate).
 * - the value Redis stores: check, version and offset, packed (12 bytes: the offset relative to its generation's
 *   first; 20 bytes when a version or offset does not fit that).
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The window's key for an event id: 16 bytes. */
export function idField(id: string): Buffer {
  if (id.length === 36 && UUID.test(id)) return Buffer.from(id.replaceAll('-', ''), 'hex');
  return createHash('sha1').update(id).digest().subarray(0, 16);
}

/** 4 bytes that a retry of the same event (same stream, same content) repeats. */
export function idCheck(stream: string, contentHash: string): Buffer {
  let h = 0x811c9dc5;
  const text = `${stream}\u0000${contentHash}`;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  const out = Buffer.alloc(4);
  out.writeUInt32BE(h >>> 0);
  return out;
}

/** Generations of a ring: a rotation forgets at most a quarter of what the memory bound allows. */
export const GENERATIONS = 4;
/** Mean entries per bucket: under hash-max-listpack-entries (512 by default; 128 in some setups) with room for chance. */
export const ENTRIES_PER_BUCKET = 96;

/** How one partition's ring is cut, passed to every script that writes it. */
export interface WindowShape {
  /** Ids are remembered at least this long, unless the memory bound forgets them first. */
  windowMs: number;
  /** At most this many events per partition are remembered (give or take one group commit). */
  maxEvents: number;
  /** A generation takes this many events before a new one starts. */
  generationEvents: number;
  /** Buckets per generation. */
  buckets: number;
  /** A generation older than this (from its first write) is closed at the next write. */
  spanMs: number;
}

export function windowShape(windowMs: number, maxEvents: number): WindowShape {
  if (!(windowMs >= 1) || !(maxEvents >= GENERATIONS)) {
    throw new RangeError(`idempotency window needs windowMs >= 1 and maxEvents >= ${GENERATIONS}`);
  }
  const generationEvents = Math.ceil(maxEvents / GENERATIONS);
  return {
    windowMs,
    maxEvents,
    generationEvents,
    buckets: Math.min(65_536, Math.max(1, Math.ceil(generationEvents / ENTRIES_PER_BUCKET))),
    spanMs: Math.max(1, Math.ceil(windowMs / GENERATIONS)),
  };
}

/** The shape as script arguments, in the order the scripts read them: window, max, generation, buckets, span. */
export function shapeArgs(s: WindowShape): number[] {
  return [s.windowMs, s.maxEvents, s.generationEvents, s.buckets, s.spanMs];
}
