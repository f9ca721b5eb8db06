import type { AppendAttempt } from './history.js';

/** The words of violation details: an attempt, its answer, and lists cut after a few items. */

const MAX_LISTED = 5;

export function describe(a: AppendAttempt): string {
  return `append to ${a.stream} by ${a.client} (attempt ${a.attempt}, expected ${a.expectedVersion})`;
}

export function answer(a: AppendAttempt): string {
  const o = a.outcome;
  if (o.status === 'conflict') return `conflict (actual ${o.actual})`;
  if (o.status === 'rejected') return `rejected (${o.httpStatus} ${o.code})`;
  return o.status;
}

export function list(items: readonly string[], separator = ', '): string {
  const shown = items.slice(0, MAX_LISTED).join(separator);
  return items.length > MAX_LISTED ? `${shown}${separator}… and ${items.length - MAX_LISTED} more` : shown;
}
