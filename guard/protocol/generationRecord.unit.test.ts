import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generationRecord, runIdOf, validGeneration } from './generationRecord.js';

describe('validGeneration', () => {
  it('is valid only for a record written on the running server', () => {
    expect(validGeneration('g-1|run-a', 'run-a')).toEqual({ gen: 'g-1', runId: 'run-a' });
  });

  it('no record (data lost) means rebuild', () => {
    expect(validGeneration(null, 'run-a')).toBeUndefined();
    expect(validGeneration('', 'run-a')).toBeUndefined();
  });

  it('a record from another run (restart, rollback to a snapshot, failover) means rebuild, even the same record', () => {
    expect(validGeneration('g-1|run-a', 'run-b')).toBeUndefined();
  });

  it('a malformed record means rebuild', () => {
    expect(validGeneration('g-1', 'run-a')).toBeUndefined();
    expect(validGeneration('|run-a', 'run-a')).toBeUndefined();
  });

  it('reads back what generationRecord wrote, on that run only', () => {
    const part = fc.stringMatching(/^[0-9a-f-]{1,40}$/);
    fc.assert(
      fc.property(part, part, part, (gen, runId, other) => {
        const record = generationRecord(gen, runId);
        expect(validGeneration(record, runId)).toEqual({ gen, runId });
        if (other !== runId) expect(validGeneration(record, other)).toBeUndefined();
      }),
    );
  });
});

describe('runIdOf', () => {
  it('reads run_id from INFO server', () => {
    const info = '# Server\r\nredis_version:7.2.4\r\nrun_id:5f1c0d3e9a\r\ntcp_port:6379\r\n';
    expect(runIdOf(info)).toBe('5f1c0d3e9a');
    expect(() => runIdOf('# Server\r\nredis_version:7.2.4\r\n')).toThrow(/no run_id/);
  });
});
