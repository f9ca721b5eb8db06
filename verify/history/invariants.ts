import { type Expected, matchesExpectedVersion } from '../../guard/append/expectedVersion.js';
import type { AppendAttempt, AttemptStatus } from './history.js';

/**
 * The history checker's rules: what clients were told (the history) against what Kafka committed, for the
 * invariants 1–4 of the design notes. Pure: no I/O, deterministic, so it is tested with hand-built and generated
 * histories. Invariant 5 (read models) is checked by a separate check plugged in beside this one (see report.ts).
 */

/** One committed event as read_committed consumers see it, from its record's kes headers. */
export interface CommittedEvent {
  topic: string;
  partition: number;
  offset: number;
  stream: string;
  version: number;
  eventId: string;
  type: string;
}

/** A record in a category topic without (valid) kes headers: nobody logged it, it is reported as unlogged. */
export interface ForeignRecord {
  topic: string;
  partition: number;
  offset: number;
  reason: string;
}

export interface Position {
  topic: string;
  partition: number;
  offset: number;
}

/** 1–4 and 5 are the invariants of the design notes; 5 (read models) comes from a plugged-in check. */
export type ViolationKind = 1 | 2 | 3 | 4 | 5 | 'unlogged' | 'duplicate-id';
export const violationKinds: readonly ViolationKind[] = [1, 2, 3, 4, 5, 'unlogged', 'duplicate-id'];

export interface Violation {
  invariant: ViolationKind;
  stream?: string;
  eventIds?: string[];
  detail: string;
  /** Where in Kafka the problem shows (the offending record), when there is one. */
  position?: Position;
}

export interface CheckOptions {
  /** Events in Kafka that no attempt logged are counted in the summary, not reported as violations. */
  allowUnlogged?: boolean;
  /**
   * How long the guard remembers event ids (KES_IDEMPOTENCY_WINDOW_S). A retry that comes later than this after a
   * committed write may be refused without violating invariant 3. @default Infinity
   */
  idempotencyWindowMs?: number;
  /** Every partition that was read, empty ones included (for the summary). @default the partitions holding events */
  partitionsRead?: readonly { topic: string; partition: number }[];
  /** Records without kes headers found in the topics; reported as unlogged. */
  foreignRecords?: readonly ForeignRecord[];
}

export interface CheckSummary {
  attempts: number;
  outcomes: Record<AttemptStatus, number>;
  /** Groups of attempts that share event ids (an append and its retries). */
  logicalAppends: number;
  /** Indeterminate attempts whose events are all in Kafka (written by it or by a retry) / none of them. */
  indeterminateWritten: number;
  indeterminateNotWritten: number;
  streamsInHistory: number;
  streamsInKafka: number;
  committedEvents: number;
  topics: number;
  partitions: number;
  /** Committed events whose id no attempt logged (violations unless allowUnlogged). */
  unloggedEvents: number;
  foreignRecords: number;
  violations: number;
  violationsByInvariant: Record<string, number>;
}

export interface CheckResult {
  summary: CheckSummary;
  violations: Violation[];
}

/**
 * Rejections the guard gives before it looks at event ids (authentication, size, validation, not ready) or that
 * are about the ids themselves (event_id_conflict). A retry refused for one of these after its first try was
 * written does not break invariant 3: the refusal says nothing about the write.
 */
export const REJECTIONS_BEFORE_IDEMPOTENCY: readonly number[] = [400, 401, 403, 413, 429, 503];
export const EVENT_ID_CONFLICT = 'event_id_conflict';

const MAX_LISTED = 5;

export function formatPosition(p: Position): string {
  return `${p.topic}[${p.partition}]@${p.offset}`;
}

/** Checks a history against the committed events (in offset order per partition; sorted here if they are not). */
export function checkHistory(
  attempts: readonly AppendAttempt[],
  committed: readonly CommittedEvent[],
  options: CheckOptions = {},
): CheckResult {
  const events = inOffsetOrder(committed);
  const violations: Violation[] = [];

  // event id -> indexes of committed events / of attempts carrying it
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
  const lookup = (id: string): CommittedEvent | undefined => {
    const i = firstOf(eventsById, id);
    return i === undefined ? undefined : events[i];
  };

  checkVersions(events, violations);
  checkDuplicateIds(events, eventsById, attempts, attemptsById, violations);

  let indeterminateWritten = 0;
  let indeterminateNotWritten = 0;
  const window = options.idempotencyWindowMs ?? Number.POSITIVE_INFINITY;
  attempts.forEach((a, self) => {
    switch (a.outcome.status) {
      case 'ok':
        checkOk(a, attempts, attemptsById, lookup, violations);
        break;
      case 'conflict':
      case 'rejected':
        checkNothingWritten(a, self, attempts, attemptsById, lookup, window, violations);
        break;
      case 'indeterminate':
        if (checkIndeterminate(a, lookup, violations)) indeterminateWritten++;
        else indeterminateNotWritten++;
        break;
    }
  });

  const unloggedEvents = checkUnlogged(events, attemptsById, options, violations);
  const foreign = options.foreignRecords ?? [];
  if (!options.allowUnlogged) reportForeign(foreign, violations);

  const outcomes: Record<AttemptStatus, number> = { ok: 0, conflict: 0, rejected: 0, indeterminate: 0 };
  for (const a of attempts) outcomes[a.outcome.status]++;
  const partitionsRead = options.partitionsRead ?? uniquePartitions(events);
  const violationsByInvariant: Record<string, number> = { 1: 0, 2: 0, 3: 0, 4: 0, unlogged: 0, 'duplicate-id': 0 };
  for (const v of violations)
    violationsByInvariant[String(v.invariant)] = (violationsByInvariant[v.invariant] ?? 0) + 1;

  return {
    summary: {
      attempts: attempts.length,
      outcomes,
      logicalAppends: groups.count(),
      indeterminateWritten,
      indeterminateNotWritten,
      streamsInHistory: new Set(attempts.map((a) => a.stream)).size,
      streamsInKafka: new Set(events.map((e) => e.stream)).size,
      committedEvents: events.length,
      topics: new Set(partitionsRead.map((p) => p.topic)).size,
      partitions: partitionsRead.length,
      unloggedEvents,
      foreignRecords: foreign.length,
      violations: violations.length,
      violationsByInvariant,
    },
    violations,
  };
}

// --- Invariant 1: per stream, versions 0, 1, 2, … in offset order, one partition ---

interface StreamState {
  topic: string;
  partition: number;
  next: number;
  /** Versions seen so far; built at the stream's first anomaly only (before it, they are exactly 0..next-1). */
  seen?: Set<number>;
  /** Partitions beyond the first, with the first event found there. */
  elsewhere?: Map<string, CommittedEvent>;
}

function checkVersions(events: readonly CommittedEvent[], violations: Violation[]): void {
  const streams = new Map<string, StreamState>();
  const order: string[] = [];
  for (const e of events) {
    let s = streams.get(e.stream);
    if (!s) {
      s = { topic: e.topic, partition: e.partition, next: 0 };
      streams.set(e.stream, s);
      order.push(e.stream);
    }
    if (e.topic !== s.topic || e.partition !== s.partition) {
      s.elsewhere ??= new Map();
      const where = `${e.topic}[${e.partition}]`;
      if (!s.elsewhere.has(where)) s.elsewhere.set(where, e);
    }
    if (e.version === s.next) {
      s.seen?.add(e.version);
      s.next++;
      continue;
    }
    if (!s.seen) s.seen = new Set(Array.from({ length: s.next }, (_, v) => v));
    const previous = s.next - 1;
    let detail: string;
    if (e.version > s.next) {
      detail = `version ${e.version} follows version ${previous} (expected ${s.next}): a gap`;
    } else if (s.seen.has(e.version)) {
      detail = `version ${e.version} is repeated (it follows version ${previous})`;
    } else {
      detail = `version ${e.version} is out of order (it follows version ${previous})`;
    }
    violations.push({ invariant: 1, stream: e.stream, eventIds: [e.eventId], detail, position: positionOf(e) });
    s.seen.add(e.version);
    s.next = Math.max(s.next, e.version + 1);
  }
  for (const stream of order) {
    const s = streams.get(stream);
    if (!s?.elsewhere) continue;
    const first = [...s.elsewhere.values()][0];
    const where = [`${s.topic}[${s.partition}]`, ...s.elsewhere.keys()];
    violations.push({
      invariant: 1,
      stream,
      detail: `stream is in ${where.length} partitions: ${where.join(', ')}`,
      ...(first ? { position: positionOf(first) } : {}),
    });
  }
}

// --- Every event id at most once in Kafka ---

function checkDuplicateIds(
  events: readonly CommittedEvent[],
  eventsById: MultiIndex,
  attempts: readonly AppendAttempt[],
  attemptsById: MultiIndex,
  violations: Violation[],
): void {
  for (const [id, at] of eventsById) {
    if (typeof at === 'number') continue;
    const copies = at.map((i) => events[i]).filter((e): e is CommittedEvent => e !== undefined);
    const second = copies[1];
    if (!second) continue;
    const tries = allOf(attemptsById, id).map((i) => attempts[i]?.outcome.status);
    const why =
      tries.length > 1
        ? `; its append was tried ${tries.length} times (${tries.join(', ')}): a retry wrote it again (invariant 4)`
        : '';
    violations.push({
      invariant: 'duplicate-id',
      stream: second.stream,
      eventIds: [id],
      detail: `event id is in Kafka ${copies.length} times: ${copies.map((e) => `${e.stream} v${e.version} at ${formatPosition(e)}`).join(', ')}${why}`,
      position: positionOf(second),
    });
  }
}

// --- Invariant 2: an append answered ok is in Kafka, at the versions and position of the answer ---

function checkOk(
  a: AppendAttempt,
  attempts: readonly AppendAttempt[],
  attemptsById: MultiIndex,
  lookup: (id: string) => CommittedEvent | undefined,
  violations: Violation[],
): void {
  const o = a.outcome;
  if (o.status !== 'ok' || a.eventIds.length === 0) return;
  const n = a.eventIds.length;
  const problems: string[] = [];
  if (o.lastVersion - o.firstVersion + 1 !== n) {
    problems.push(`the answer spans versions ${o.firstVersion}..${o.lastVersion} for ${n} event(s)`);
  }
  // The compare-and-swap: the versions answered follow from the expected version of this request, or of another
  // attempt with the same ids (a retry is answered from the first write, whatever it expected).
  const siblings = allOf(attemptsById, a.eventIds[0] ?? '').map((i) => attempts[i]);
  if (!siblings.some((s) => s !== undefined && honours(s.expectedVersion, o.firstVersion))) {
    problems.push(`first version ${o.firstVersion} does not follow from expected version ${a.expectedVersion}`);
  }
  const missing: string[] = [];
  let previous: CommittedEvent | undefined;
  a.eventIds.forEach((id, i) => {
    const e = lookup(id);
    if (!e) {
      missing.push(id);
      return;
    }
    if (e.stream !== a.stream) problems.push(`${id} is in stream ${e.stream}`);
    if (e.version !== o.firstVersion + i)
      problems.push(`${id} is at version ${e.version}, answered ${o.firstVersion + i}`);
    if (previous && (e.topic !== previous.topic || e.partition !== previous.partition || e.offset <= previous.offset)) {
      problems.push(`${id} at ${formatPosition(e)} does not follow the append's previous event`);
    }
    if (i === n - 1 && !samePosition(e, o)) {
      problems.push(`last event ${id} is at ${formatPosition(e)}, answered ${formatPosition(o)}`);
    }
    previous = e;
  });
  if (missing.length > 0) problems.unshift(`${missing.length} of ${n} event(s) not in Kafka: ${list(missing)}`);
  if (problems.length === 0) return;
  violations.push({
    invariant: 2,
    stream: a.stream,
    eventIds: [...a.eventIds],
    detail: `${describe(a)} answered ok at versions ${o.firstVersion}..${o.lastVersion}, ${formatPosition(o)}: ${list(problems, '; ')}`,
    position: { topic: o.topic, partition: o.partition, offset: o.offset },
  });
}

/** Whether an append whose first event got `first` honours `expected`. */
export function honours(expected: Expected, first: number): boolean {
  // The guard decided on the version before the append: one below its first event's.
  return matchesExpectedVersion(expected, first - 1);
}

// --- Invariant 3: an append answered conflict or rejected wrote nothing ---

function checkNothingWritten(
  a: AppendAttempt,
  self: number,
  attempts: readonly AppendAttempt[],
  attemptsById: MultiIndex,
  lookup: (id: string) => CommittedEvent | undefined,
  windowMs: number,
  violations: Violation[],
): void {
  const o = a.outcome;
  const timingApplies =
    o.status === 'conflict' ||
    (o.status === 'rejected' && o.code !== EVENT_ID_CONFLICT && !REJECTIONS_BEFORE_IDEMPOTENCY.includes(o.httpStatus));
  const unexplained: CommittedEvent[] = [];
  let stale: { event: CommittedEvent; by: AppendAttempt } | undefined;
  for (const id of a.eventIds) {
    const e = lookup(id);
    if (!e) continue;
    const writers = allOf(attemptsById, id)
      .filter((i) => i !== self)
      .map((i) => attempts[i])
      .filter((w): w is AppendAttempt => w?.outcome.status === 'ok' || w?.outcome.status === 'indeterminate');
    if (writers.length === 0) {
      unexplained.push(e);
      continue;
    }
    if (timingApplies && !stale) {
      const by = writers.find((w) => w.endMs < a.startMs && a.startMs - w.endMs <= windowMs);
      if (by) stale = { event: e, by };
    }
  }
  const first = unexplained[0];
  if (first) {
    violations.push({
      invariant: 3,
      stream: a.stream,
      eventIds: unexplained.map((e) => e.eventId),
      detail: `${describe(a)} answered ${answer(a)}, but ${unexplained.length} of ${a.eventIds.length} event(s) are in Kafka and no ok or indeterminate attempt carries them: ${list(unexplained.map((e) => `${e.eventId} at ${formatPosition(e)}`))}`,
      position: positionOf(first),
    });
  }
  if (stale) {
    const { event, by } = stale;
    violations.push({
      invariant: 3,
      stream: a.stream,
      eventIds: [...a.eventIds],
      detail: `${describe(a)} answered ${answer(a)}, but ${describe(by)} (${by.outcome.status}) had ended ${a.startMs - by.endMs} ms before it began and its events are committed (${event.eventId} at ${formatPosition(event)}): the retry should have been answered from idempotency`,
      position: positionOf(event),
    });
  }
}

// --- Invariant 4: an indeterminate append is in Kafka once or not at all ---

/** Returns whether the attempt's events are in Kafka. */
function checkIndeterminate(
  a: AppendAttempt,
  lookup: (id: string) => CommittedEvent | undefined,
  violations: Violation[],
): boolean {
  const found = a.eventIds.map((id) => lookup(id));
  const present = found.filter((e): e is CommittedEvent => e !== undefined);
  const first = present[0];
  if (!first) return false;
  const problems: string[] = [];
  if (present.length < found.length) {
    const missing = a.eventIds.filter((_, i) => found[i] === undefined);
    problems.push(`only ${present.length} of ${found.length} event(s) are in Kafka (missing: ${list(missing)})`);
  }
  present.forEach((e, i) => {
    if (e.stream !== a.stream) problems.push(`${e.eventId} is in stream ${e.stream}`);
    const previous = present[i - 1];
    if (!previous) return;
    if (e.version !== previous.version + 1) {
      problems.push(`${e.eventId} is at version ${e.version} after version ${previous.version}`);
    }
    if (e.topic !== previous.topic || e.partition !== previous.partition || e.offset <= previous.offset) {
      problems.push(`${e.eventId} at ${formatPosition(e)} does not follow ${formatPosition(previous)}`);
    }
  });
  if (problems.length > 0) {
    violations.push({
      invariant: 4,
      stream: a.stream,
      eventIds: [...a.eventIds],
      detail: `${describe(a)} ended indeterminate (${a.outcome.status === 'indeterminate' ? a.outcome.reason : ''}): ${list(problems, '; ')}`,
      position: positionOf(first),
    });
  }
  return present.length === found.length;
}

// --- Unlogged events and foreign records ---

function checkUnlogged(
  events: readonly CommittedEvent[],
  attemptsById: MultiIndex,
  options: CheckOptions,
  violations: Violation[],
): number {
  const byStream = new Map<string, CommittedEvent[]>();
  let count = 0;
  for (const e of events) {
    if (attemptsById.has(e.eventId)) continue;
    count++;
    if (options.allowUnlogged) continue;
    const list = byStream.get(e.stream);
    if (list) list.push(e);
    else byStream.set(e.stream, [e]);
  }
  for (const [stream, unlogged] of byStream) {
    const first = unlogged[0];
    if (!first) continue;
    violations.push({
      invariant: 'unlogged',
      stream,
      eventIds: unlogged.map((e) => e.eventId),
      detail: `${unlogged.length} committed event(s) no attempt logged: ${list(unlogged.map((e) => `${e.eventId} v${e.version} at ${formatPosition(e)}`))}`,
      position: positionOf(first),
    });
  }
  return count;
}

function reportForeign(foreign: readonly ForeignRecord[], violations: Violation[]): void {
  const byPartition = new Map<string, ForeignRecord[]>();
  for (const r of foreign) {
    const k = `${r.topic}[${r.partition}]`;
    const list = byPartition.get(k);
    if (list) list.push(r);
    else byPartition.set(k, [r]);
  }
  for (const records of byPartition.values()) {
    const first = records[0];
    if (!first) continue;
    violations.push({
      invariant: 'unlogged',
      detail: `${records.length} record(s) without kes headers: ${list(records.map((r) => `${formatPosition(r)} (${r.reason})`))}`,
      position: positionOf(first),
    });
  }
}

// --- helpers ---

function inOffsetOrder(committed: readonly CommittedEvent[]): readonly CommittedEvent[] {
  for (let i = 1; i < committed.length; i++) {
    const a = committed[i - 1];
    const b = committed[i];
    if (a && b && compareEvents(a, b) > 0) return [...committed].sort(compareEvents);
  }
  return committed;
}

export function compareEvents(a: Position, b: Position): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  if (a.partition !== b.partition) return a.partition - b.partition;
  return a.offset - b.offset;
}

function uniquePartitions(events: readonly CommittedEvent[]): { topic: string; partition: number }[] {
  const out: { topic: string; partition: number }[] = [];
  let last: CommittedEvent | undefined;
  for (const e of events) {
    if (!last || last.topic !== e.topic || last.partition !== e.partition)
      out.push({ topic: e.topic, partition: e.partition });
    last = e;
  }
  return out;
}

function positionOf(p: Position): Position {
  return { topic: p.topic, partition: p.partition, offset: p.offset };
}

function samePosition(a: Position, b: Position): boolean {
  return a.topic === b.topic && a.partition === b.partition && a.offset === b.offset;
}

function describe(a: AppendAttempt): string {
  return `append to ${a.stream} by ${a.client} (attempt ${a.attempt}, expected ${a.expectedVersion})`;
}

function answer(a: AppendAttempt): string {
  const o = a.outcome;
  if (o.status === 'conflict') return `conflict (actual ${o.actual})`;
  if (o.status === 'rejected') return `rejected (${o.httpStatus} ${o.code})`;
  return o.status;
}

function list(items: readonly string[], separator = ', '): string {
  const shown = items.slice(0, MAX_LISTED).join(separator);
  return items.length > MAX_LISTED ? `${shown}${separator}… and ${items.length - MAX_LISTED} more` : shown;
}

/** id -> one index, or several: most ids occur once, and a number costs less than an array. */
type MultiIndex = Map<string, number | number[]>;

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

function allOf(index: MultiIndex, key: string): readonly number[] {
  const at = index.get(key);
  return at === undefined ? [] : typeof at === 'number' ? [at] : at;
}

class UnionFind {
  private readonly parent: Int32Array;
  private roots: number;
  constructor(n: number) {
    this.parent = Int32Array.from({ length: n }, (_, i) => i);
    this.roots = n;
  }
  find(i: number): number {
    let root = i;
    while (this.parent[root] !== root) root = this.parent[root] ?? root;
    let at = i;
    while (at !== root) {
      const next = this.parent[at] ?? root;
      this.parent[at] = root;
      at = next;
    }
    return root;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra === rb) return;
    this.parent[rb] = ra;
    this.roots--;
  }
  count(): number {
    return this.roots;
  }
}
