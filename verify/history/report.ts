import type { Kafka } from 'kafkajs';
import { ServiceUnavailableError, UsageError } from '../../pipeline/errors.js';
import { type Column, type OutputFormat, renderRows } from '../../pipeline/output/textOutput.js';
import { checkHistory } from './checkHistory.js';
import type { CheckResult, CheckSummary, Violation, ViolationKind } from './checkTypes.js';
import type { CommittedEvent } from './committedEvents.js';
import { type AppendAttempt, readHistory } from './history.js';
import { formatPosition } from './positions.js';
import { readTopicContents } from './topicContents.js';

/**
 * `kes check` as a function: read the history, read what Kafka committed, apply the rules of checkHistory.ts and any
 * plugged-in checks, and say what was and was not checked.
 */

/**
 * A further check run after the rules of checkHistory.ts, on the same history and committed events. The read-model
 * check (invariant 5) plugs in here when the projectors exist; until one does, the report says read models were not
 * checked.
 */
export interface PluggedCheck {
  /** Shown in the report, e.g. 'invariant 5: read models equal the log'. */
  name: string;
  invariant: ViolationKind;
  run(input: { attempts: readonly AppendAttempt[]; committed: readonly CommittedEvent[] }): Promise<Violation[]>;
}

export interface CheckLine {
  check: string;
  status: 'checked' | 'counted only' | 'not checked';
  note: string;
}

export interface CheckReport extends CheckResult {
  topicPrefix: string;
  historyFiles: string[];
  checks: CheckLine[];
  /** One line per invariant that was not checked, e.g. the read models without --read-models. */
  notChecked: string[];
}

export interface RunCheckOptions {
  kafka: Kafka;
  /** One history file or several (one per client process); or give `attempts`. */
  historyPath?: string | readonly string[];
  attempts?: readonly AppendAttempt[];
  topicPrefix: string;
  allowUnlogged?: boolean;
  /** See CheckOptions.idempotencyWindowMs. @default Infinity */
  idempotencyWindowMs?: number;
  checks?: readonly PluggedCheck[];
  /** Progress lines (for stderr). */
  onProgress?: (line: string) => void;
  /** Names Kafka in the error when it cannot be reached. */
  kafkaAddress?: string;
  /** Give up reading Kafka after this long. @default 600000 */
  timeoutMs?: number;
}

export const READ_MODELS_NOT_CHECKED =
  'read models: not checked (give --read-models to compare ClickHouse with the log)';

export async function runCheck(options: RunCheckOptions): Promise<CheckReport> {
  const files = options.historyPath === undefined ? [] : [options.historyPath].flat();
  if (files.length === 0 && options.attempts === undefined) {
    throw new UsageError('give a history file (--history) or attempts to check');
  }
  const attempts: AppendAttempt[] = [...(options.attempts ?? [])];
  for (const file of files) for (const a of readHistory(file)) attempts.push(a);
  const progress = options.onProgress ?? (() => {});
  progress(`history: ${attempts.length} attempt(s) from ${files.length > 0 ? files.join(', ') : 'memory'}`);

  await probeKafka(options.kafka, options.kafkaAddress);
  const contents = await readTopicContents(options.kafka, {
    topicPrefix: options.topicPrefix,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    onProgress: (p) =>
      progress(
        p.done
          ? `read ${p.records} record(s) from ${p.partitions} partition(s) of ${p.topics} topic(s) under '${options.topicPrefix}'`
          : `read ${p.records} of at most ${p.upperBound} record(s) from ${p.partitions} partition(s)`,
      ),
  });

  const result = checkHistory(attempts, contents.events, {
    allowUnlogged: options.allowUnlogged ?? false,
    ...(options.idempotencyWindowMs === undefined ? {} : { idempotencyWindowMs: options.idempotencyWindowMs }),
    partitionsRead: contents.partitions,
    foreignRecords: contents.foreign,
  });

  const plugged = options.checks ?? [];
  for (const check of plugged) {
    const found = await check.run({ attempts, committed: contents.events });
    result.violations.push(...found);
    const key = String(check.invariant);
    result.summary.violationsByInvariant[key] = (result.summary.violationsByInvariant[key] ?? 0) + found.length;
  }
  result.summary.violations = result.violations.length;

  const readModelsChecked = plugged.some((c) => c.invariant === 5);
  const checks: CheckLine[] = [
    { check: 'invariant 1: versions 0, 1, 2, … per stream, in one partition', status: 'checked', note: '' },
    { check: 'invariant 2: appends answered ok are where the answer said', status: 'checked', note: '' },
    { check: 'invariant 3: appends answered conflict or rejected wrote nothing', status: 'checked', note: '' },
    { check: 'invariant 4: indeterminate appends are in Kafka once or not at all', status: 'checked', note: '' },
    {
      check: 'invariant 6: a conflict names a version committed before it was answered',
      status: 'checked',
      note: '',
    },
    { check: 'every event id at most once in Kafka', status: 'checked', note: '' },
    {
      check: 'atomic groups: in the log entirely or not at all, in one transaction',
      status: result.summary.atomicGroups > 0 ? 'checked' : 'not checked',
      note: result.summary.atomicGroups > 0 ? '' : 'no atomic groups in the history',
    },
    {
      check: 'every committed event was logged by an attempt',
      status: options.allowUnlogged ? 'counted only' : 'checked',
      note: options.allowUnlogged ? '--allow-unlogged' : '',
    },
    ...plugged.map((c): CheckLine => ({ check: c.name, status: 'checked', note: '' })),
  ];
  const notChecked: string[] = [];
  if (!readModelsChecked) {
    checks.push({ check: 'invariant 5: read models equal the log', status: 'not checked', note: 'no --read-models' });
    notChecked.push(READ_MODELS_NOT_CHECKED);
  }
  return { ...result, topicPrefix: options.topicPrefix, historyFiles: files, checks, notChecked };
}

async function probeKafka(kafka: Kafka, address: string | undefined): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (error) {
    throw new ServiceUnavailableError('kafka', address ?? 'the configured brokers', error);
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

// --- rendering ---

interface Row {
  name: string;
  value: string | number;
}

export function summaryRows(s: CheckSummary): Row[] {
  const rows: Row[] = [
    { name: 'attempts', value: s.attempts },
    { name: 'attempts ok', value: s.outcomes.ok },
    { name: 'attempts conflict', value: s.outcomes.conflict },
    { name: 'attempts rejected', value: s.outcomes.rejected },
    { name: 'attempts indeterminate', value: s.outcomes.indeterminate },
    { name: 'indeterminate: events in Kafka', value: s.indeterminateWritten },
    { name: 'indeterminate: events not in Kafka', value: s.indeterminateNotWritten },
    { name: 'logical appends', value: s.logicalAppends },
    { name: 'streams in history', value: s.streamsInHistory },
    { name: 'streams in Kafka', value: s.streamsInKafka },
    { name: 'committed events', value: s.committedEvents },
    { name: 'topics read', value: s.topics },
    { name: 'partitions read', value: s.partitions },
    { name: 'unlogged events', value: s.unloggedEvents },
    { name: 'records without kes headers', value: s.foreignRecords },
    { name: 'atomic groups', value: s.atomicGroups },
    { name: 'atomic groups in the log', value: s.atomicGroupsWritten },
  ];
  for (const [kind, count] of Object.entries(s.violationsByInvariant)) {
    rows.push({ name: `violations: ${/^\d$/.test(kind) ? `invariant ${kind}` : kind}`, value: count });
  }
  rows.push({ name: 'violations', value: s.violations });
  return rows;
}

const summaryColumns: Column<Row>[] = [
  { header: 'metric', value: (r) => r.name },
  { header: 'value', value: (r) => r.value },
];

const checkColumns: Column<CheckLine>[] = [
  { header: 'check', value: (r) => r.check },
  { header: 'status', value: (r) => r.status },
  { header: 'note', value: (r) => r.note },
];

const violationColumns: Column<Violation>[] = [
  { header: 'invariant', value: (v) => String(v.invariant) },
  { header: 'stream', value: (v) => v.stream },
  { header: 'detail', value: (v) => v.detail },
  { header: 'position', value: (v) => (v.position ? formatPosition(v.position) : undefined) },
];

/**
 * What `kes check` prints on stdout. table: the summary, the checks, every violation, the lines of what was not
 * checked and a verdict. json: one object. csv: the summary, the checks and the violations as three CSV blocks
 * separated by a blank line (the not-checked lines then go to stderr, see `notCheckedOnStderr`).
 */
export function renderReport(report: CheckReport, format: OutputFormat): string {
  if (format === 'json') {
    return JSON.stringify(
      {
        topicPrefix: report.topicPrefix,
        historyFiles: report.historyFiles,
        summary: report.summary,
        checks: report.checks,
        notChecked: report.notChecked,
        violations: report.violations,
      },
      null,
      2,
    );
  }
  const blocks = [
    renderRows(summaryRows(report.summary), summaryColumns, format),
    renderRows(report.checks, checkColumns, format),
  ];
  if (format === 'csv') {
    blocks.push(renderRows(report.violations, violationColumns, format));
    return blocks.join('\n\n');
  }
  if (report.violations.length > 0) blocks.push(renderRows(report.violations, violationColumns, format));
  const verdict =
    report.violations.length === 0 ? 'no violations' : `${report.violations.length} violation(s) of the invariants`;
  return [...blocks, ...report.notChecked, verdict].join('\n');
}

/** In csv and json the not-checked lines would break the output; the CLI prints them to stderr instead. */
export function notCheckedOnStderr(format: OutputFormat): boolean {
  return format === 'csv';
}
