/** A JSON object: not null, not an array (what a request body or an event's metadata must be). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
