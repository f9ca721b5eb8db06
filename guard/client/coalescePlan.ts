/**
 * When a coalescer sends what is pending: the decisions alone, pure (coalescePlan.unit.test.ts); batchCoalescer.ts
 * carries them out with timers and requests.
 */
export interface CoalescePolicy {
  lingerMs: number;
  maxAppends: number;
  maxBytes: number;
}

export const defaultCoalescePolicy: CoalescePolicy = { lingerMs: 1, maxAppends: 256, maxBytes: 900_000 };

/** The policy of the options given, checked up front: a bad value fails the client's construction, naming it. */
export function coalescePolicy(options: { [K in keyof CoalescePolicy]?: number | undefined } = {}): CoalescePolicy {
  const policy = { ...defaultCoalescePolicy, ...definedOnly(options) };
  if (!(Number.isFinite(policy.lingerMs) && policy.lingerMs >= 0 && policy.lingerMs <= 1_000))
    throw new RangeError(`coalesce.lingerMs: expected 0 to 1000, got ${policy.lingerMs}`);
  if (!(Number.isInteger(policy.maxAppends) && policy.maxAppends >= 1 && policy.maxAppends <= 1_000))
    throw new RangeError(`coalesce.maxAppends: expected a whole number from 1 to 1000, got ${policy.maxAppends}`);
  if (!(Number.isInteger(policy.maxBytes) && policy.maxBytes >= 1_024))
    throw new RangeError(`coalesce.maxBytes: expected a whole number of at least 1024, got ${policy.maxBytes}`);
  return policy;
}

function definedOnly(o: object): Partial<CoalescePolicy> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<CoalescePolicy>;
}

export interface Pending {
  count: number;
  bytes: number;
}

/** Send what is pending before adding an append of `bytes`: it would not fit in the same request. */
export function sendBeforeAdding(pending: Pending, bytes: number, policy: CoalescePolicy): boolean {
  return pending.count > 0 && (pending.count >= policy.maxAppends || pending.bytes + bytes > policy.maxBytes);
}

/** Send at once after adding: the request is full (no later append can join it). */
export function fullAfterAdding(pending: Pending, policy: CoalescePolicy): boolean {
  return pending.count >= policy.maxAppends || pending.bytes >= policy.maxBytes;
}

/**
 * Linger only while a request to the guard is in flight: then the load is high enough that waiting a little fills the
 * next request, and its appends would wait for the guard anyway. With nothing in flight, a call goes at once (with
 * whatever else was called in the same tick), so a lone writer pays no linger. The guard's group commit decides the
 * same way (guard/write/appendQueue.ts, shouldLinger).
 */
export function lingerWhile(inFlight: number): boolean {
  return inFlight > 0;
}
