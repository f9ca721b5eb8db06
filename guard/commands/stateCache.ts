import type { Redis } from 'ioredis';

/**
 * Folded command state, cached in Redis beside the guard's versions: `<prefix>cmd:<category>:s<stateVersion>:<stream>`
 * holds `<version>|<partition>|<offset>|<state JSON>`.
 *
 * An entry is written only after an append was committed, from the state it was decided on plus its own events,
 * so an entry is always the exact state of the log at its version: Kafka never takes back a committed event. That
 * makes the cache safe to lose (the state is folded again from Kafka) and safe to roll back (an older entry is still
 * exact at its older version; the handler reads the events after it). It can only be behind, never wrong.
 * Concurrent writers keep the newest version (the script never lowers it). Entries expire, so streams nobody
 * commands any more leave the cache.
 */
export interface CachedState {
  version: number;
  partition: number;
  /** Offset of the event at `version`: the log is read from the next one when the entry is behind. */
  offset: number;
  state: unknown;
}

const PUT_IF_NEWER = `
local current = redis.call('GET', KEYS[1])
if current then
  local version = tonumber(string.match(current, '^(%-?%d+)|'))
  if version and version >= tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`;

export class StateCache {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlMs: number,
  ) {}

  key(category: string, stateVersion: number, stream: string): string {
    return `${this.prefix}cmd:${category}:s${stateVersion}:${stream}`;
  }

  async get(key: string): Promise<CachedState | undefined> {
    const text = await this.redis.get(key);
    if (text === null) return undefined;
    const match = /^(-?\d+)\|(\d+)\|(\d+)\|/.exec(text);
    if (!match) return undefined; // not ours: treated as a miss, overwritten by the next write
    return {
      version: Number(match[1]),
      partition: Number(match[2]),
      offset: Number(match[3]),
      state: JSON.parse(text.slice(match[0].length)),
    };
  }

  /** Stores the entry unless the cache already holds this or a newer version. */
  async put(key: string, entry: CachedState): Promise<boolean> {
    const text = `${entry.version}|${entry.partition}|${entry.offset}|${JSON.stringify(entry.state)}`;
    const stored = await this.redis.eval(PUT_IF_NEWER, 1, key, String(entry.version), text, String(this.ttlMs));
    return stored === 1;
  }
}
