import type { PathId } from './options.js';

/** What the running services are configured to do with a write, read from them (durabilityFacts.ts). */
export interface DurabilityFacts {
  kafka: {
    /** Replicas of the topics' partitions. */
    replication: number;
    /** The topic's flush.messages: '1' fsyncs every message; Kafka's default leaves flushing to the OS. */
    flushMessages: string | undefined;
  };
  redis: { appendonly: string; appendfsync: string } | undefined;
  postgres: { synchronousCommit: string; fsync: string } | undefined;
}

function kafkaText(k: DurabilityFacts['kafka']): string {
  const flush = k.flushMessages === '1' ? 'fsync of every message (flush.messages=1)' : 'no fsync (flush by the OS)';
  return `Kafka replication factor ${k.replication} with acks=all, ${flush}`;
}

function redisText(r: DurabilityFacts['redis']): string {
  if (r === undefined) return 'Redis persistence unknown';
  if (r.appendonly !== 'yes') return 'Redis AOF off (appendonly no): the versions live in memory and RDB snapshots';
  return `Redis appendfsync ${r.appendfsync}`;
}

function postgresText(p: DurabilityFacts['postgres']): string {
  if (p === undefined) return 'Postgres settings unknown';
  if (p.fsync !== 'on') return `no fsync (fsync=${p.fsync})`;
  if (p.synchronousCommit === 'off')
    return 'WAL flushed in the background (synchronous_commit=off): a crash loses the last commits';
  return `fsync per commit (synchronous_commit=${p.synchronousCommit})`;
}

/** The durability a path's acknowledged write has, said in a line beside its figures. */
export function durabilityOf(path: PathId, facts: DurabilityFacts): string {
  switch (path) {
    case 'raw-kafka':
      return kafkaText(facts.kafka);
    case 'postgres':
      return postgresText(facts.postgres);
    default:
      return `${kafkaText(facts.kafka)}; ${redisText(facts.redis)}`;
  }
}
