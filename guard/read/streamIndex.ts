import type { ChainableCommander, Redis } from 'ioredis';
import { decodeIndex, type IndexEntry, runsByStream } from './positionIndex.js';

/**
 * The position index in Redis (format in positionIndex.ts): `<prefix>{<topic>:<partition>}:pos:<stream>`, in the
 * partition's hash tag like the guard's other per-partition keys. It is written in the commit path, beside the
 * confirm script and in the same pipeline, once the events are committed, so it only ever names committed events;
 * a read that had to scan adds what it found (only after the last entry: the index grows forwards).
 *
 * It is a cache of the log like everything the guard keeps in Redis: lost or behind, reads scan from the nearest
 * entry (or from the partition's start) and still answer exactly. A rebuild from Kafka (guard/recovery/) does not
 * delete it; after Redis lost everything, the first read of each stream scans and writes the index again.
 */
export function indexKey(prefix: string, topic: string, partition: number, stream: string): string {
  return `${prefix}{${topic}:${partition}}:pos:${stream}`;
}

/**
 * KEYS: one index per stream. ARGV: per key, a count n and n pairs (version, offset) in version order. An entry is
 * added only past the index's last one, and only when it does not continue that entry's run (the next version at
 * the next offset); so two writers meeting here, or a repair racing a commit, can leave the index sparser but never
 * out of order. Integers up to 2^48 (Lua numbers are doubles: exact well beyond).
 */
const APPEND_POSITIONS = `
local function u48(s, at)
  local n = 0
  for i = at, at + 5 do n = n * 256 + string.byte(s, i) end
  return n
end
local function b48(n)
  local t = {}
  for i = 6, 1, -1 do t[i] = string.char(n % 256); n = math.floor(n / 256) end
  return table.concat(t)
end
local function varint(n)
  local t = {}
  while n >= 128 do t[#t + 1] = string.char(n % 128 + 128); n = math.floor(n / 128) end
  t[#t + 1] = string.char(n)
  return table.concat(t)
end
local a = 1
local added = 0
for k = 1, #KEYS do
  local n = tonumber(ARGV[a]); a = a + 1
  local head = redis.call('GETRANGE', KEYS[k], 0, 11)
  local exists = string.len(head) == 12
  local lv, lo = -1, -1
  if exists then lv = u48(head, 1); lo = u48(head, 7) end
  local out = {}
  for j = 1, n do
    local v = tonumber(ARGV[a]); local o = tonumber(ARGV[a + 1]); a = a + 2
    if v > lv and o > lo and not (exists and v - lv == o - lo) then
      out[#out + 1] = varint(v - lv) .. varint(o - lo)
      lv = v; lo = o; exists = true
    end
  end
  if #out > 0 then
    if redis.call('EXISTS', KEYS[k]) == 0 then redis.call('SET', KEYS[k], string.rep('\\0', 12)) end
    redis.call('APPEND', KEYS[k], table.concat(out))
    redis.call('SETRANGE', KEYS[k], 0, b48(lv) .. b48(lo))
    added = added + #out
  end
end
return added
`;

const COMMAND = 'kesAppendPositions';

type WithCommand = { [COMMAND](...args: (string | number)[]): Promise<number> };

function ensureCommand(redis: Redis): void {
  if (!(COMMAND in redis)) redis.defineCommand(COMMAND, { lua: APPEND_POSITIONS });
}

function args(
  prefix: string,
  topic: string,
  partition: number,
  runs: Map<string, readonly IndexEntry[]>,
): (string | number)[] {
  const keys: string[] = [];
  const argv: number[] = [];
  for (const [stream, entries] of runs) {
    if (entries.length === 0) continue;
    keys.push(indexKey(prefix, topic, partition, stream));
    argv.push(entries.length);
    for (const e of entries) argv.push(e.version, e.offset);
  }
  return [keys.length, ...keys, ...argv];
}

/**
 * Adds a committed group's positions (per partition, events in offset order) to the index, as commands of the
 * caller's pipeline (the group's confirmation: one write to Redis for both, whose answer is not awaited). The index
 * only saves reads, so a failure here costs a later read a scan, nothing else.
 */
export function recordPositions(
  redis: Redis,
  pipeline: ChainableCommander,
  prefix: string,
  partitions: readonly {
    topic: string;
    partition: number;
    events: readonly { stream: string; version: number; offset: number }[];
  }[],
): void {
  ensureCommand(redis);
  const withCommand = pipeline as unknown as WithCommand;
  for (const p of partitions) {
    const runs = runsByStream(p.events);
    if (runs.size === 0) continue;
    void withCommand[COMMAND](...args(prefix, p.topic, p.partition, runs));
  }
}

export class StreamIndex {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    ensureCommand(redis);
  }

  async load(topic: string, partition: number, stream: string): Promise<IndexEntry[]> {
    return decodeIndex(await this.redis.getBuffer(indexKey(this.prefix, topic, partition, stream)));
  }

  /** Adds positions a read found (version order); answers how many entries were added. */
  async add(topic: string, partition: number, stream: string, positions: readonly IndexEntry[]): Promise<number> {
    const runs = runsByStream(positions.map((p) => ({ stream, ...p })));
    if (runs.size === 0) return 0;
    return (this.redis as unknown as WithCommand)[COMMAND](...args(this.prefix, topic, partition, runs));
  }

  /** Bytes Redis holds for one stream's index (MEMORY USAGE), for the benchmark. */
  async memoryUsage(topic: string, partition: number, stream: string): Promise<number> {
    const bytes = await this.redis.call('MEMORY', 'USAGE', indexKey(this.prefix, topic, partition, stream));
    return Number(bytes ?? 0);
  }

  /** Drops one stream's index (tests and the benchmark: the missing-index path). */
  async drop(topic: string, partition: number, stream: string): Promise<void> {
    await this.redis.del(indexKey(this.prefix, topic, partition, stream));
  }
}
