import type { Validated } from './redisState.js';

/** The record `"<generation>|<run id>"`: this state was checked against Kafka on the server with this run id. */
export function generationRecord(gen: string, runId: string): string {
  return `${gen}|${runId}`;
}

/**
 * Whether Redis holds state the guard may decide on. No record: the data was lost (restart without persistence,
 * flush). A record from another run id: the server restarted, was rolled back to an older AOF or RDB (which may
 * carry the very record the guard validated), or failed over to a replica; any of them may have lost writes, so the
 * record proves nothing. Undefined means rebuild.
 */
export function validGeneration(record: string | null, runId: string): Validated | undefined {
  if (!record) return undefined;
  const [gen, recordedRunId] = record.split('|');
  if (!gen || recordedRunId !== runId) return undefined;
  return { gen, runId };
}

/** The server's run id, from `INFO server`: a new one at every start, and another on every replica. */
export function runIdOf(info: string): string {
  const runId = /run_id:(\w+)/.exec(info)?.[1];
  if (!runId) throw new Error('Redis INFO server has no run_id');
  return runId;
}
