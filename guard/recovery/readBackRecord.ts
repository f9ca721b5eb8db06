import { HEADER, legacyHeaderName, parseEventTime } from '../../pipeline/events/eventRecord.js';
import type { HeaderRecords } from '../../pipeline/kafka/headerReader.js';
import { idCheck, idField } from '../protocol/idWindow.js';

/**
 * What committed records read back from Kafka tell Redis, decided here and written by readBack.ts:
 * - per stream, the highest version read (one write per stream and range, not one per event; versions only move
 *   forward, so the highest is all that matters);
 * - per event inside the idempotency window, its entry (field, check, version, offset: what confirm writes, see
 *   guard/protocol/idWindow.ts), aged by its event time, not the time it was read, so a rebuild does not keep old ids
 *   longer than the window; and whether an append may start at it (boundary), so that the window never puts one
 *   append's ids into two generations.
 * Records without kes headers (written by something else), or with malformed ones, tell nothing.
 */

/**
 * The headers read back, in this order (the type only has to be there: a record without it is not a kes event), each
 * with the name an older kes wrote it under, if it had another (records written before the CloudEvents names).
 */
export const READ_BACK_HEADERS = [
  HEADER.stream,
  HEADER.version,
  HEADER.eventId,
  HEADER.type,
  HEADER.time,
  HEADER.hash,
].map((name) => {
  const legacy = legacyHeaderName(name);
  return legacy === undefined ? name : [name, legacy];
});
const [STREAM, VERSION, ID, TYPE, TIME, HASH] = [0, 1, 2, 3, 4, 5] as const;

/** What a range has told so far. */
export interface ReadBackFold {
  /** Per stream, the highest version read. */
  versions: Map<string, number>;
  /** kes events read. */
  events: number;
  /** The last kes event read: the next one continues its append only on the same stream at the next offset. */
  lastStream: string;
  lastOffset: number;
}

export function emptyFold(): ReadBackFold {
  return { versions: new Map(), events: 0, lastStream: '', lastOffset: -2 };
}

/** One event's values in an applyIds call: field, check, version, offset, time ms, boundary (1: an append may start). */
export type IdEntryValue = Buffer | number;

/**
 * Folds one fetch's records into `fold` and returns the idempotency entries to write, flat, six values per event
 * whose time is after `cutoffMs` (IdEntryValue). `onEvent` sees every kes event's id (recovery looks for probes).
 */
export function foldRecords(
  fold: ReadBackFold,
  records: HeaderRecords,
  cutoffMs: number,
  onEvent?: (eventId: string) => void,
): IdEntryValue[] {
  const { offsets, values } = records;
  const streams = values[STREAM] ?? [];
  const versions = values[VERSION] ?? [];
  const ids = values[ID] ?? [];
  const types = values[TYPE] ?? [];
  const times = values[TIME] ?? [];
  const hashes = values[HASH] ?? [];
  const entries: IdEntryValue[] = [];
  for (let i = 0; i < offsets.length; i++) {
    const stream = streams[i];
    const id = ids[i];
    const hash = hashes[i];
    const timeText = times[i];
    if (!stream || !id || !hash || !timeText || !types[i]) continue;
    const version = Number(versions[i]);
    const time = parseEventTime(timeText);
    if (!versions[i] || !Number.isSafeInteger(version) || version < 0 || !Number.isFinite(time)) continue;
    fold.events++;
    onEvent?.(id);
    const known = fold.versions.get(stream);
    if (known === undefined || version > known) fold.versions.set(stream, version);
    const offset = Number(offsets[i]);
    const boundary = stream !== fold.lastStream || offset !== fold.lastOffset + 1 ? 1 : 0;
    fold.lastStream = stream;
    fold.lastOffset = offset;
    if (time > cutoffMs) entries.push(idField(id), idCheck(stream, hash), version, offset, time, boundary);
  }
  return entries;
}

/** Splits a flat list of `width`-tuples into chunks of at most `perChunk` tuples (one script call each). */
export function chunksOf<T>(flat: readonly T[], width: number, perChunk: number): T[][] {
  const out: T[][] = [];
  const step = width * perChunk;
  for (let i = 0; i < flat.length; i += step) out.push(flat.slice(i, i + step));
  return out;
}

/** The fold's versions as (stream, version) pairs. */
export function versionPairs(fold: ReadBackFold): string[] {
  const out: string[] = [];
  for (const [stream, version] of fold.versions) out.push(stream, String(version));
  return out;
}
