/**
 * The position index of a stream: where in its partition each run of the stream's events starts. A run is a stretch
 * of consecutive versions at consecutive offsets (an append's events, which a group commit writes side by side), so
 * an entry (version v, offset o) says: version v is at offset o, and v + k is at o + k until the next entry.
 *
 * Stored in Redis as one string per stream (guard/read/streamIndex.ts), kept small because Redis memory is paid per
 * event: a 12-byte header holding the last entry (two 48-bit big-endian integers, version then offset) and then, per
 * entry, the version delta and the offset delta from the entry before (the first from (-1, -1)), each an unsigned
 * LEB128 varint. An append of one event into a busy partition costs 3 to 5 bytes; an append that continues the run
 * before it (the next version at the next offset) costs nothing.
 *
 * An entry is only ever a lower bound the reader relies on: versions increase with offsets in a partition, so if
 * version v is at o, version v + k is at o + k or later. A missing entry (a confirm lost in a crash, Redis rolled
 * back) makes the reader scan forward from the entry before it, never skip an event; every record read is checked
 * by its stream and version headers anyway.
 */
export interface IndexEntry {
  version: number;
  offset: number;
}

const HEADER_BYTES = 12;

/** The entries of a stored index, oldest first; an empty or malformed value reads as no entries. */
export function decodeIndex(value: Buffer | null | undefined): IndexEntry[] {
  if (!value || value.length < HEADER_BYTES) return [];
  const entries: IndexEntry[] = [];
  let version = -1;
  let offset = -1;
  let at = HEADER_BYTES;
  const varint = (): number | undefined => {
    let result = 0;
    let scale = 1;
    while (at < value.length) {
      const byte = value[at++] as number;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 128;
    }
    return undefined;
  };
  while (at < value.length) {
    const dv = varint();
    const dof = varint();
    if (dv === undefined || dof === undefined || dv < 1 || dof < 1) return entries; // torn tail: what came before holds
    version += dv;
    offset += dof;
    entries.push({ version, offset });
  }
  return entries;
}

/** The header and entries as the index script writes them (for tests, and the reader's repair). */
export function encodeIndex(entries: readonly IndexEntry[]): Buffer {
  const bytes: number[] = [];
  const put = (n: number) => {
    let rest = n;
    while (rest >= 128) {
      bytes.push((rest % 128) | 0x80);
      rest = Math.floor(rest / 128);
    }
    bytes.push(rest);
  };
  let last: IndexEntry = { version: -1, offset: -1 };
  for (const entry of compactRuns(entries)) {
    put(entry.version - last.version);
    put(entry.offset - last.offset);
    last = entry;
  }
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUIntBE(Math.max(0, last.version), 0, 6);
  header.writeUIntBE(Math.max(0, last.offset), 6, 6);
  return Buffer.concat([header, Buffer.from(bytes)]);
}

/**
 * The entries worth keeping of positions in version order: the first, and every one that does not continue the
 * run before it; positions not after the last kept one are dropped (the index only grows forwards).
 */
export function compactRuns(positions: readonly IndexEntry[]): IndexEntry[] {
  const kept: IndexEntry[] = [];
  let last: IndexEntry | undefined;
  let runStart: IndexEntry | undefined;
  for (const p of positions) {
    if (last && (p.version <= last.version || p.offset <= last.offset)) continue;
    if (!(runStart && p.version - runStart.version === p.offset - runStart.offset)) {
      kept.push(p);
      runStart = p;
    }
    last = p;
  }
  return kept;
}

/**
 * The run starts of one group commit's events in one partition, per stream (events in offset order), as the
 * index script takes them. Positions that are not numbers (a partition the broker did not report) are skipped.
 */
export function runsByStream(
  events: readonly { stream: string; version: number; offset: number }[],
): Map<string, IndexEntry[]> {
  const byStream = new Map<string, IndexEntry[]>();
  for (const e of events) {
    if (!Number.isSafeInteger(e.offset) || e.offset < 0 || !Number.isSafeInteger(e.version) || e.version < 0) continue;
    const list = byStream.get(e.stream) ?? [];
    list.push({ version: e.version, offset: e.offset });
    byStream.set(e.stream, list);
  }
  for (const [stream, list] of byStream) byStream.set(stream, compactRuns(list));
  return byStream;
}

/**
 * Where to look for versions lo..hi: per entry that covers part of the range, the offset its first version there
 * is at (or after), never below `lowerBound` (an offset the caller knows the stream has nothing before, e.g. after
 * a cached state's last event). Without entries, one probe from `lowerBound`: a scan.
 */
export interface Probe {
  /** The first offset to read. */
  from: number;
  first: number;
  last: number;
}

export function planProbes(entries: readonly IndexEntry[], lo: number, hi: number, lowerBound = 0): Probe[] {
  if (hi < lo) return [];
  const probes: Probe[] = [];
  // The entry at or before lo, then every entry inside the range.
  let start = -1;
  for (let i = 0; i < entries.length; i++) if ((entries[i] as IndexEntry).version <= lo) start = i;
  if (start < 0) {
    const firstInRange = entries.findIndex((e) => e.version > lo && e.version <= hi);
    const until = firstInRange < 0 ? hi : (entries[firstInRange] as IndexEntry).version - 1;
    probes.push({ from: lowerBound, first: lo, last: until });
    if (firstInRange < 0) return probes;
    start = firstInRange;
  }
  for (let i = start; i < entries.length; i++) {
    const entry = entries[i] as IndexEntry;
    if (entry.version > hi) break;
    const next = entries[i + 1];
    const first = Math.max(lo, entry.version);
    const last = Math.min(hi, next ? next.version - 1 : hi);
    if (last < first) continue;
    probes.push({ from: Math.max(lowerBound, entry.offset + (first - entry.version)), first, last });
  }
  return probes;
}

/**
 * Probes close together in the partition, read as one: a fetch costs about the same whether it brings one batch or
 * a megabyte (bench:read), so probes less than `maxGap` offsets apart become one probe from the first one's offset,
 * covering their versions together (contiguous, since the probes of a range are). `to` is the offset of the last
 * probe joined, so the reader asks for about the bytes up to it in one fetch.
 */
export function spanProbes(probes: readonly Probe[], maxGap: number): (Probe & { to: number })[] {
  const spans: (Probe & { to: number })[] = [];
  let lastFrom = Number.NEGATIVE_INFINITY;
  for (const p of probes) {
    const current = spans[spans.length - 1];
    if (current && p.first === current.last + 1 && p.from - lastFrom <= maxGap) {
      current.last = p.last;
      current.to = p.from;
    } else {
      spans.push({ ...p, to: p.from });
    }
    lastFrom = p.from;
  }
  return spans;
}
