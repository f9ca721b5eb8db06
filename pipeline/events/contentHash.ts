import { createHash } from 'node:crypto';

/**
 * A digest of what an event says (type, data, metadata), independent of key order, so that a retry of the same
 * event under the same id is recognised as the same, and a reused id with other content is not.
 */
export function contentHash(type: string, data: unknown, metadata: unknown): string {
  return createHash('sha256')
    .update(canonicalJson([type, data, metadata ?? null]))
    .digest('base64url')
    .slice(0, 22);
}

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
