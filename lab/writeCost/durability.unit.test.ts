import { describe, expect, it } from 'vitest';
import { type DurabilityFacts, durabilityOf } from './durability.js';

const facts: DurabilityFacts = {
  kafka: { replication: 3, flushMessages: '9223372036854775807' },
  redis: { appendonly: 'yes', appendfsync: 'everysec' },
  postgres: { synchronousCommit: 'on', fsync: 'on' },
};

describe('durabilityOf', () => {
  it('says what Kafka, Redis and Postgres were found configured to do', () => {
    expect(durabilityOf('raw-kafka', facts)).toBe(
      'Kafka replication factor 3 with acks=all, no fsync (flush by the OS)',
    );
    expect(durabilityOf('guard-batched', facts)).toBe(
      'Kafka replication factor 3 with acks=all, no fsync (flush by the OS); Redis appendfsync everysec',
    );
    expect(durabilityOf('postgres', facts)).toBe('fsync per commit (synchronous_commit=on)');
  });

  it('names a weaker setting when it finds one', () => {
    const weak: DurabilityFacts = {
      kafka: { replication: 1, flushMessages: '1' },
      redis: { appendonly: 'no', appendfsync: 'everysec' },
      postgres: { synchronousCommit: 'off', fsync: 'on' },
    };
    expect(durabilityOf('raw-kafka', weak)).toContain('flush.messages=1');
    expect(durabilityOf('guard-single', weak)).toContain('AOF off');
    expect(durabilityOf('postgres', weak)).toContain('synchronous_commit=off');
    expect(durabilityOf('postgres', { ...weak, postgres: { synchronousCommit: 'on', fsync: 'off' } })).toBe(
      'no fsync (fsync=off)',
    );
  });
});
