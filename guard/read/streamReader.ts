import type { Kafka } from 'kafkajs';
import { NotReadyError } from '../../pipeline/errors.js';
import { decodeHeaders } from '../../pipeline/events/eventRecord.js';
import type { HighWatermarks } from '../../pipeline/kafka/highWatermarks.js';
import type { RawRecord } from '../../pipeline/kafka/kafkajsInternals.js';
import { OffsetFetcher } from '../../pipeline/kafka/offsetFetcher.js';
import type { EventCatalog } from '../../pipeline/schemas/eventCatalog.js';
import { type IndexEntry, type Probe, planProbes, spanProbes } from './positionIndex.js';
import type { ReadEvent } from './readAnswer.js';
import type { StreamIndex } from './streamIndex.js';

/** One event of a stream as a read answers it: decoded with its writer schema, with its place in the log. */
export type { ReadEvent };

export interface StreamLocation {
  topic: string;
  partition: number;
  stream: string;
}

/** What one read did, for the benchmark and the tests: how it found its events. */
export interface ReadStats {
  indexEntries: number;
  probes: number;
  fetches: number;
  recordsDecoded: number;
  /** The index was missing or wrong for part of the range and the partition was scanned from `lowerBound`. */
  scanned: boolean;
  /** Entries the read added to the index. */
  repaired: number;
}

interface Found {
  record: RawRecord;
  offset: number;
  id: string;
  type: string;
  timeMs: number;
  hash: string;
  metadata?: Record<string, unknown>;
}

/** Where one event of a stream is, and what identifies it, from its headers alone (locate). */
export interface LocatedEvent {
  version: number;
  id: string;
  /** The content hash (kes-hash) it was written with. */
  hash: string;
  offset: number;
}

/** The first fetch of a probe asks for little (the broker still answers one whole batch); a scan asks for more. */
const PROBE_BYTES = 1;
const SCAN_BYTES = 1024 * 1024;
/** Probes closer than this many offsets (about one group-commit batch) are one fetch; farther, one narrow fetch each. */
const SPAN_OFFSETS = 500;
/** The bytes a joined probe asks for: its offsets at a generous record size, and a batch more. */
const spanBytes = (offsets: number) => Math.min(SCAN_BYTES, offsets * 300 + 64 * 1024);
/**
 * Parallel fetches, one Kafka connection each. A stream's reads are one fetch per append when its appends sit far
 * apart, so the time is rounds of fetches: with 8 lanes a 100-append stream in 10^6 offsets read in 38.7 ms median
 * on a quiet machine, with 4 in 57.8 ms (bench:read --lanes).
 */
export const DEFAULT_LANES = 8;

/**
 * Reads versions lo..hi of one stream exactly: at the offsets its position index names (positionIndex.ts), with a
 * scan forward wherever the index is behind, and a scan of the partition from `lowerBound` when the index is
 * missing or wrong. Every record counts only by its own key, ce_subject (stream) and kes-version headers, read_committed, so
 * an index can make a read slower but never wrong. The caller names versions that are committed (at or below the
 * version the guard's Redis holds for the stream), so they lie below the high watermark taken here.
 */
export class StreamReader {
  /** One fetcher (one connection) per lane: a broker serves one request per connection at a time. */
  private readonly fetchers: OffsetFetcher[];

  constructor(
    kafka: Kafka,
    private readonly watermarks: HighWatermarks,
    /** Decodes values for read; a reader without one can only locate (the conflict read-back needs no more). */
    private readonly catalog: EventCatalog | undefined,
    private readonly index: StreamIndex,
    private readonly timeoutMs = 30_000,
    lanes = DEFAULT_LANES,
  ) {
    this.fetchers = Array.from({ length: Math.max(1, lanes) }, () => new OffsetFetcher(kafka));
  }

  async close(): Promise<void> {
    await Promise.all(this.fetchers.map((f) => f.close()));
  }

  async read(
    at: StreamLocation,
    lo: number,
    hi: number,
    options: { lowerBound?: number; useIndex?: boolean } = {},
  ): Promise<{ events: ReadEvent[]; stats: ReadStats }> {
    const { found, stats } = await this.find(at, lo, hi, options);
    const events: ReadEvent[] = [];
    for (let v = lo; v <= hi; v++) events.push(await this.decode(at, v, found.get(v) as Found));
    return { events, stats };
  }

  /** Versions lo..hi of one stream as read does, from their headers only: no value is decoded. */
  async locate(
    at: StreamLocation,
    lo: number,
    hi: number,
    options: { lowerBound?: number } = {},
  ): Promise<LocatedEvent[]> {
    const { found } = await this.find(at, lo, hi, options);
    const events: LocatedEvent[] = [];
    for (let v = lo; v <= hi; v++) {
      const f = found.get(v) as Found;
      events.push({ version: v, id: f.id, hash: f.hash, offset: f.offset });
    }
    return events;
  }

  private async find(
    at: StreamLocation,
    lo: number,
    hi: number,
    options: { lowerBound?: number; useIndex?: boolean },
  ): Promise<{ found: Map<number, Found>; stats: ReadStats }> {
    const stats: ReadStats = { indexEntries: 0, probes: 0, fetches: 0, recordsDecoded: 0, scanned: false, repaired: 0 };
    const found = new Map<number, Found>();
    if (hi < lo) return { found, stats };
    const lowerBound = options.lowerBound ?? 0;
    const entries: IndexEntry[] =
      options.useIndex === false ? [] : await this.index.load(at.topic, at.partition, at.stream).catch(() => []);
    stats.indexEntries = entries.length;
    const until = (await this.watermarks.of(at.topic)).get(at.partition) ?? 0;
    const deadline = Date.now() + this.timeoutMs;
    const probes = spanProbes(planProbes(entries, lo, hi, lowerBound), SPAN_OFFSETS);
    stats.probes = probes.length;
    let next = 0;
    // Probes in order over a few lanes; a probe whose versions an earlier fetch already brought costs nothing.
    const lane = async (fetcher: OffsetFetcher) => {
      while (next < probes.length) {
        const probe = probes[next++] as Probe & { to: number };
        const bytes = probe.to > probe.from ? spanBytes(probe.to - probe.from) : PROBE_BYTES;
        await this.seek(fetcher, at, probe, lo, hi, until, deadline, found, stats, bytes);
      }
    };
    await Promise.all(this.fetchers.slice(0, probes.length).map(lane));
    if (missing(found, lo, hi) !== undefined && entries.length > 0) {
      stats.scanned = true;
      const scan = { from: lowerBound, first: lo, last: hi };
      await this.seek(this.fetchers[0] as OffsetFetcher, at, scan, lo, hi, until, deadline, found, stats, SCAN_BYTES);
    }
    const gap = missing(found, lo, hi);
    if (gap !== undefined) {
      throw new NotReadyError(
        `stream ${at.stream}: version ${gap} of ${lo}..${hi} is not readable in ${at.topic}[${at.partition}] ` +
          `from offset ${lowerBound} yet`,
      );
    }
    // A read that had to look beyond what the index predicted tells the index what it found (only entries past its
    // last one are kept); with no index at all, only from version 0, so that an index never starts mid-stream.
    // An entry that names another offset for a version read here is wrong (the topic was deleted and made again
    // under the same name, say): the index is dropped, and written again from this read when it starts at 0.
    const predicted = stats.fetches <= stats.probes && !stats.scanned && entries.length > 0;
    if (options.useIndex !== false && !predicted) {
      const wrong = entries.some(
        (e) => e.version >= lo && e.version <= hi && found.get(e.version)?.offset !== e.offset,
      );
      if (wrong) await this.index.drop(at.topic, at.partition, at.stream).catch(() => {});
      if ((entries.length > 0 && !wrong) || lo === 0) {
        const positions = [...found].sort(([a], [b]) => a - b).map(([version, f]) => ({ version, offset: f.offset }));
        stats.repaired = await this.index.add(at.topic, at.partition, at.stream, positions).catch(() => 0);
      }
    }
    return { found, stats };
  }

  /**
   * Reads forward from `probe.from` until versions first..last are found, keeping every version lo..hi it meets.
   * Stops early, leaving the rest to the scan, when the stream shows a later version before the one it needs: the
   * needed one lies before `probe.from`, so the entry that placed it was wrong.
   */
  private async seek(
    fetcher: OffsetFetcher,
    at: StreamLocation,
    probe: Probe,
    lo: number,
    hi: number,
    until: number,
    deadline: number,
    found: Map<number, Found>,
    stats: ReadStats,
    firstBytes = PROBE_BYTES,
  ): Promise<void> {
    let need = probe.first;
    const advance = () => {
      while (need <= probe.last && found.has(need)) need++;
    };
    advance();
    let offset = probe.from;
    let bytes = firstBytes;
    while (need <= probe.last && offset < until) {
      if (Date.now() > deadline) {
        throw new NotReadyError(
          `stream ${at.stream}: reading ${at.topic}[${at.partition}] timed out after ${this.timeoutMs} ms at offset ${offset}`,
        );
      }
      const fetched = await fetcher.fetch(at.topic, at.partition, offset, {
        maxBytes: bytes,
        maxWaitMs: 200,
        key: Buffer.from(at.stream, 'utf8'),
      });
      stats.fetches++;
      stats.recordsDecoded += fetched.records.length;
      for (const record of fetched.records) {
        const recordOffset = Number(record.offset);
        if (recordOffset >= until) break;
        if (record.key?.toString() !== at.stream) continue;
        const headers = decodeHeaders(record.headers);
        if (!headers || headers.stream !== at.stream) continue;
        // `need` is not found yet (advance): meeting a later version first means it lies before probe.from.
        if (need <= probe.last && headers.version > need) return;
        if (headers.version < lo || headers.version > hi || found.has(headers.version)) continue;
        const entry: Found = {
          record,
          offset: recordOffset,
          id: headers.eventId,
          type: headers.type,
          timeMs: headers.timeMs,
          hash: headers.contentHash,
        };
        if (headers.metadata !== undefined) entry.metadata = headers.metadata;
        found.set(headers.version, entry);
        advance();
      }
      offset = fetched.next;
      bytes = SCAN_BYTES;
    }
  }

  private async decode(at: StreamLocation, version: number, found: Found): Promise<ReadEvent> {
    const value = found.record.value;
    if (!this.catalog) throw new Error('this StreamReader has no event catalog: it can locate events, not decode them');
    if (!value) throw new NotReadyError(`stream ${at.stream}: version ${version} has no value at ${found.offset}`);
    const { data } = await this.catalog.decode(value);
    const event: ReadEvent = {
      version,
      id: found.id,
      type: found.type,
      data: data as Record<string, unknown>,
      time: new Date(found.timeMs).toISOString(),
      position: { topic: at.topic, partition: at.partition, offset: found.offset },
    };
    if (found.metadata !== undefined) event.metadata = found.metadata;
    return event;
  }
}

/** The first version of lo..hi not found, or undefined when all are. */
function missing(found: ReadonlyMap<number, unknown>, lo: number, hi: number): number | undefined {
  for (let v = lo; v <= hi; v++) if (!found.has(v)) return v;
  return undefined;
}
