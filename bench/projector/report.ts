import { type Column, renderRows } from '../../pipeline/output/textOutput.js';
import { formatNumber } from '../support/figures.js';
import { headerLine, printFigures, verdictTable } from '../support/report.js';
import { type PhaseCpu, usPerEvent } from './phaseCpu.js';
import type { FreshnessResult, OpenedEngine, ProjectorRun } from './projectorRun.js';
import { figuresJson, verdictsOf } from './reportJson.js';

const fmt = (n: number | undefined, digits = 0) => formatNumber(n, digits);

interface Row {
  phase: string;
  events: number;
  seconds: number;
  rate: number;
  join?: number;
  inserts?: number;
  rows?: number;
  insertMs?: number;
  share?: number;
  flushMs?: number;
}

const columns: Column<Row>[] = [
  { header: 'phase', value: (r) => r.phase },
  { header: 'events', value: (r) => fmt(r.events), align: 'right' },
  { header: 'seconds', value: (r) => fmt(r.seconds, 2), align: 'right' },
  { header: 'events/s', value: (r) => fmt(r.rate), align: 'right' },
  { header: 'join s', value: (r) => fmt(r.join, 2), align: 'right' },
  { header: 'batches', value: (r) => fmt(r.inserts), align: 'right' },
  { header: 'mean rows/batch', value: (r) => fmt(r.rows), align: 'right' },
  { header: 'mean insert ms', value: (r) => fmt(r.insertMs, 1), align: 'right' },
  {
    header: 'insert % of wall',
    value: (r) => (r.share === undefined ? '—' : `${Math.round(r.share * 100)}%`),
    align: 'right',
  },
  { header: 'mean flush ms', value: (r) => fmt(r.flushMs, 1), align: 'right' },
];

interface CpuRow {
  phase: string;
  c: PhaseCpu;
  perEvent?: { main: number; bench: number };
  idle?: number | undefined;
  attempt?: number | undefined;
}

function cpuTable(cpuRows: CpuRow[]): string {
  const names = [...new Set(cpuRows.flatMap((r) => Object.keys(r.c.processes)))];
  const cpuColumns: Column<CpuRow>[] = [
    { header: 'CPU % of one core', value: (r) => r.phase },
    { header: 'bench main thread', value: (r) => r.c.benchMainThread, align: 'right' },
    { header: 'event loop busy', value: (r) => `${Math.round(r.c.eventLoopUtilization * 100)}%`, align: 'right' },
    { header: 'bench other threads', value: (r) => r.c.benchOtherThreads, align: 'right' },
    ...names.map((n) => ({ header: n, value: (r: CpuRow) => r.c.processes[n] ?? '—', align: 'right' as const })),
    { header: 'others', value: (r) => r.c.others, align: 'right' },
    { header: 'machine', value: (r) => r.c.machine, align: 'right' },
    { header: 'bench µs/event: main thread', value: (r) => fmt(r.perEvent?.main, 1), align: 'right' },
    { header: 'all threads', value: (r) => fmt(r.perEvent?.bench, 1), align: 'right' },
    { header: 'idle machine before', value: (r) => r.idle ?? '—', align: 'right' },
    { header: 'attempt', value: (r) => r.attempt ?? '—', align: 'right' },
  ];
  return renderRows(cpuRows, cpuColumns, 'table');
}

function freshnessTable(fresh: FreshnessResult, freshnessSeconds: number, warmupSeconds: number): string[] {
  const l = fresh.load;
  const row = {
    rate: l.rate,
    achieved: l.appendsPerSecond,
    appendP50: l.p50Ms,
    appendP99: l.p99Ms,
    events: fresh.events,
    p50: fresh.p50Ms,
    p99: fresh.p99Ms,
    max: fresh.maxMs,
    mean: fresh.meanMs,
  };
  const peak = fresh.peakAppendsPerSecond;
  return [
    renderRows(
      [row],
      [
        {
          header: 'freshness load',
          value: (r) => `${fmt(r.rate)} appends/s (${peak === undefined ? '--rate' : `half of a ${fmt(peak)}/s peak`})`,
        },
        { header: 'achieved/s', value: (r) => fmt(r.achieved), align: 'right' },
        {
          header: 'append p50/p99 ms',
          value: (r) => `${fmt(r.appendP50, 1)} / ${fmt(r.appendP99, 1)}`,
          align: 'right',
        },
        { header: 'events in window', value: (r) => fmt(r.events), align: 'right' },
        { header: 'freshness p50 ms', value: (r) => fmt(r.p50), align: 'right' },
        { header: 'p99 ms', value: (r) => fmt(r.p99), align: 'right' },
        { header: 'max ms', value: (r) => fmt(r.max), align: 'right' },
        { header: 'mean ms', value: (r) => fmt(r.mean), align: 'right' },
      ],
      'table',
    ),
    `freshness = projected_at − time in the events view (ClickHouse's now64(3) at insert − the guard's kes-time), ` +
      `events appended in the ${freshnessSeconds} s window after ${warmupSeconds} s of warm-up`,
  ];
}

function tables(run: ProjectorRun, m: Record<string, string | number>, opened: OpenedEngine | undefined): string[] {
  const { options, config, preload: loaded, raw, clickhouse: ch, freshness: fresh } = run;
  const settings =
    `KES_PROJECTOR_BATCH_ROWS=${config.KES_PROJECTOR_BATCH_ROWS} KES_PROJECTOR_BATCH_MS=${config.KES_PROJECTOR_BATCH_MS} ` +
    `KES_PROJECTOR_FETCH_BYTES=${config.KES_PROJECTOR_FETCH_BYTES}`;
  const events = loaded
    ? `${fmt(loaded.events)} events (${Object.entries(loaded.types)
        .map(([t, n]) => `${t} ${fmt(n)}`)
        .join(', ')}), `
    : '';
  const perRecord = loaded ? `, ${fmt(loaded.bytes / loaded.events)} bytes per record` : '';
  const engine = opened ? `ClickHouse: ${opened.engine.kind} ${opened.version}; ` : '';
  const lines = [
    headerLine('kes projector benchmark', run.id, m),
    `${events}${fmt(options.streams)} streams, ${options.partitions} partitions${perRecord}; ${engine}${settings}`,
  ];
  const rows: Row[] = [];
  if (loaded) {
    rows.push({
      phase: 'pre-load (transactional produce)',
      events: loaded.events,
      seconds: loaded.seconds,
      rate: loaded.eventsPerSecond,
    });
  }
  const consumed = (phase: string, p: NonNullable<ProjectorRun['raw']>, sink: boolean): Row => ({
    phase,
    events: p.events,
    seconds: p.seconds,
    rate: p.eventsPerSecond,
    join: p.joinSeconds,
    inserts: p.inserts,
    rows: p.meanRowsPerInsert,
    ...(sink ? { insertMs: p.meanInsertMs, share: p.insertShareOfWall } : {}),
    flushMs: p.meanFlushMs,
  });
  if (raw) rows.push(consumed('raw consume + decode (no sink)', raw, false));
  if (ch) rows.push(consumed('projector into ClickHouse', ch, true));
  if (rows.length > 0) lines.push(renderRows(rows, columns, 'table'));
  if (raw || ch) {
    const after = [
      raw ? `raw ${fmt(raw.eventsPerSecondAfterJoin)}` : '',
      ch ? `ClickHouse ${fmt(ch.eventsPerSecondAfterJoin)}` : '',
    ]
      .filter((s) => s !== '')
      .join(', ');
    lines.push(
      `events/s = events / (start() → every partition at its end), group join included; after the join: ${after} events/s.` +
        (ch
          ? ` Insert ms = engine.insert alone (p99 ${fmt(ch.p99InsertMs)} ms); ` +
            `flush = dead letters + inserts + offset commit (kes_projector_insert_seconds). count(events) = ${fmt(ch.countInEventsView)}.`
          : ''),
    );
  }
  if (fresh) lines.push(...freshnessTable(fresh, options.freshnessSeconds, options.warmupSeconds));
  const cpuRows: CpuRow[] = [
    ...(loaded
      ? [{ phase: 'pre-load', c: loaded.cpu, perEvent: usPerEvent(loaded.cpu, loaded.seconds, loaded.events) }]
      : []),
    ...[raw, ch].flatMap((p) =>
      p
        ? [
            {
              phase: p.label,
              c: p.cpu,
              perEvent: usPerEvent(p.cpu, p.seconds, p.events),
              idle: p.idleBefore,
              attempt: p.attempts,
            },
          ]
        : [],
    ),
    ...(fresh ? [{ phase: 'freshness load', c: fresh.cpu, idle: fresh.idleBefore }] : []),
  ];
  if (cpuRows.length > 0) lines.push(cpuTable(cpuRows));
  lines.push(verdictTable(verdictsOf(run)));
  for (const p of [raw, ch]) {
    if (p && p.cpu.others > options.maxNoise) {
      lines.push(
        `WARNING: ${p.label} was measured while other processes took ${p.cpu.others}% of a core (least disturbed of ${p.attempts ?? 1} attempts): its figures, and the ratio, are disturbed`,
      );
    }
  }
  for (const p of [raw, ch]) {
    if (!p?.profile) continue;
    lines.push(
      `CPU profile of the main thread, ${p.label} (${p.profile.sampledS} s sampled, ${p.profile.file}):`,
      `  by origin: ${p.profile.byOrigin.map((o) => `${o.origin} ${o.percent}%`).join(', ')}`,
      `  top self time: ${p.profile.topFunctions.map((f) => `${f.fn} ${f.percent}%`).join('; ')}`,
    );
  }
  return lines;
}

/** The figures on stdout: tables, or one JSON object with --json. */
export function printReport(
  run: ProjectorRun,
  m: Record<string, string | number>,
  opened: OpenedEngine | undefined,
): void {
  printFigures(figuresJson(run, m, opened, verdictsOf(run)), run.options.json, () => tables(run, m, opened));
}
