/**
 * Where the guard keeps its state in Redis. Redis is a cache of the log: every key here can be rebuilt from Kafka.
 *
 * Per partition (hash tag `{topic:partition}`, so a partition's keys share a Redis Cluster slot):
 *   ver   HASH stream -> version (the last reserved or written version)
 *   lock  HASH stream -> "<reservation id>|<version before it>": the stream has a reservation in flight
 *   res   HASH reservation id -> "<slot>|<deadline ms>|<watermark when made>|<probe event id>|<stream=prev,...>"
 *   seen  HASH stream -> highest version read back from Kafka while the stream was locked (only after a Redis
 *         rollback can Kafka hold versions beyond a reservation still open in Redis; rolling that reservation
 *         back must not go below them)
 *   wm    STRING the watermark: every committed event at or below it is applied here, except events of
 *         reservations still in `res` (whose own watermark bounds where their events can be)
 *   fly   HASH event id (16 bytes, guard/protocol/idWindow.ts) -> reservation id: ids reserved and not yet settled
 *   flr   HASH reservation id -> its ids (16 bytes each, concatenated), so that settling it lifts their marks
 *   idm   HASH the idempotency window's ring: lo, cur (oldest and newest generation), f (first write of cur), and per
 *         generation g: n<g> events, t<g> last write ms, o<g> first offset, b<g> buckets
 *   idm:<g>:<b>  HASH event id (16 bytes) -> check|version|offset packed: bucket b of generation g (kept small, so
 *         Redis keeps it listpack-encoded: about 36 bytes an event instead of ~300)
 * Global (hash tag `{g}`):
 *   gen   STRING "<generation>|<Redis run id>": written when the state was last validated against Kafka
 *   slot:<n>  STRING guard instance holding slot n (a lease)
 *   rebuild   STRING the guard rebuilding the state (a lease)
 */
export interface PartitionKeys {
  topic: string;
  partition: number;
  ver: string;
  lock: string;
  res: string;
  wm: string;
  seen: string;
  fly: string;
  flr: string;
  /** The idempotency window's ring; its buckets are `<idm>:<generation>:<bucket>` (same hash tag, same slot). */
  idm: string;
}

export class KeySpace {
  constructor(readonly prefix: string) {}

  partition(topic: string, partition: number): PartitionKeys {
    const tag = `${this.prefix}{${topic}:${partition}}`;
    return {
      topic,
      partition,
      ver: `${tag}:ver`,
      lock: `${tag}:lock`,
      res: `${tag}:res`,
      wm: `${tag}:wm`,
      seen: `${tag}:seen`,
      fly: `${tag}:fly`,
      flr: `${tag}:flr`,
      idm: `${tag}:i`,
    };
  }

  get gen(): string {
    return `${this.prefix}{g}:gen`;
  }
  slot(n: number): string {
    return `${this.prefix}{g}:slot:${n}`;
  }
  get rebuild(): string {
    return `${this.prefix}{g}:rebuild`;
  }
  /** Pattern matching every partition's `res` hash (recovery scans them). */
  get resPattern(): string {
    return `${this.prefix}{*}:res`;
  }
}
