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
 * Global (hash tag `{g}`):
 *   ids   HASH event id -> "stream|version|topic|partition|offset|content hash" (the idempotency window)
 *   idx   ZSET event id by write time, to forget ids older than the window
 *   gen   STRING "<generation>|<Redis run id>": written when the state was last validated against Kafka
 *   slot:<n>  STRING guard instance holding slot n (a lease)
 *   rebuild   STRING the guard rebuilding the state (a lease)
 */
export interface PartitionKeys {
  ver: string;
  lock: string;
  res: string;
  wm: string;
  seen: string;
}

export class KeySpace {
  constructor(readonly prefix: string) {}

  partition(topic: string, partition: number): PartitionKeys {
    const tag = `${this.prefix}{${topic}:${partition}}`;
    return { ver: `${tag}:ver`, lock: `${tag}:lock`, res: `${tag}:res`, wm: `${tag}:wm`, seen: `${tag}:seen` };
  }

  get ids(): string {
    return `${this.prefix}{g}:ids`;
  }
  get idx(): string {
    return `${this.prefix}{g}:idx`;
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
