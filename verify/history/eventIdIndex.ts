import type { CommittedEvent } from './committedEvents.js';
import type { AppendAttempt } from './history.js';
import { UnionFind } from './unionFind.js';

/** id -> one index, or several: most ids occur once, and a number costs less than an array. */
export type MultiIndex = Map<string, number | number[]>;

/** The first committed event with an event id, if any. */
export type Lookup = (id: string) => CommittedEvent | undefined;

export interface EventIdIndex {
  /** event id -> indexes of the committed events carrying it */
  eventsById: MultiIndex;
  /** event id -> indexes of the attempts carrying it (each attempt once) */
  attemptsById: MultiIndex;
  lookup: Lookup;
  /** Groups of attempts that share event ids (an append and its retries). */
  logicalAppends: number;
}

/** Indexes the committed events and the attempts by event id, and groups the attempts that share ids. */
export function indexEventIds(attempts: readonly AppendAttempt[], events: readonly CommittedEvent[]): EventIdIndex {
  const eventsById: MultiIndex = new Map();
  events.forEach((e, i) => {
    addTo(eventsById, e.eventId, i);
  });
  const attemptsById: MultiIndex = new Map();
  const groups = new UnionFind(attempts.length);
  attempts.forEach((a, i) => {
    for (const id of a.eventIds) {
      const first = firstOf(attemptsById, id);
      if (first !== undefined && first !== i) groups.union(first, i);
      if (!lastIs(attemptsById, id, i)) addTo(attemptsById, id, i);
    }
  });
  const lookup: Lookup = (id) => {
    const i = firstOf(eventsById, id);
    return i === undefined ? undefined : events[i];
  };
  return { eventsById, attemptsById, lookup, logicalAppends: groups.count() };
}

function addTo(index: MultiIndex, key: string, i: number): void {
  const at = index.get(key);
  if (at === undefined) index.set(key, i);
  else if (typeof at === 'number') index.set(key, [at, i]);
  else at.push(i);
}

function firstOf(index: MultiIndex, key: string): number | undefined {
  const at = index.get(key);
  return typeof at === 'number' ? at : at?.[0];
}

function lastIs(index: MultiIndex, key: string, i: number): boolean {
  const at = index.get(key);
  return typeof at === 'number' ? at === i : at?.[at.length - 1] === i;
}

export function allOf(index: MultiIndex, key: string): readonly number[] {
  const at = index.get(key);
  return at === undefined ? [] : typeof at === 'number' ? [at] : at;
}
