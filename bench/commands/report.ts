import { join } from 'node:path';
import { accountModule } from '../../example/accounts/account.js';
import { type Column, renderRows } from '../../pipeline/output/textOutput.js';
import { formatNumber, round } from '../support/figures.js';
import { median, summarize } from '../support/latency.js';
import { headerLine, printFigures, settingsLine } from '../support/report.js';
import { progress } from '../support/run.js';
import type { CommandRun } from './commandRun.js';
import type { Measured } from './measure.js';

const CATEGORY = accountModule.category;
const fmt = (n: number | undefined, digits = 1) => formatNumber(n, digits);
const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a) && Number.isFinite(b) ? a / b : Number.NaN);
const times = (r: number) => (Number.isFinite(r) ? `${r.toFixed(2)}×` : '—');
const latencyOf = (values: readonly number[]) => {
  const { p50, p99, max } = summarize(values);
  return { p50, p99, max };
};
const perSecond = (x: Measured) => x.ok / (x.elapsedMs / 1000);

/** CPU per successful operation, in µs: the processes' mean % of one core over the ops/s. */
function usPerOp(x: Measured, names: (n: string) => boolean): number {
  const percent = Object.entries(x.cpu)
    .filter(([n]) => names(n))
    .reduce((sum, [, v]) => sum + v, 0);
  return (percent / 100) * (1e6 / perSecond(x));
}

function cpuPerOp(x: Measured) {
  return {
    client: usPerOp(x, (n) => n === 'bench'),
    guards: usPerOp(x, (n) => (x.guardsUsed ? x.guardsUsed.includes(n) : n.startsWith('guard'))),
    redis: usPerOp(x, (n) => n === 'redis'),
    kafka: usPerOp(x, (n) => n === 'kafka'),
  };
}

/** `a` against the baseline `b`: throughput, latency, and CPU per operation of the guard(s) and Redis. */
function against(a: Measured, b: Measured) {
  const la = latencyOf(a.latencies);
  const lb = latencyOf(b.latencies);
  return {
    opsPerSecond: ratio(perSecond(a), perSecond(b)),
    p50: ratio(la.p50, lb.p50),
    p99: ratio(la.p99, lb.p99),
    guardUsPerOp: ratio(cpuPerOp(a).guards, cpuPerOp(b).guards),
    redisUsPerOp: ratio(cpuPerOp(a).redis, cpuPerOp(b).redis),
  };
}
type Ratios = ReturnType<typeof against>;

const rounded = (o: Record<string, number>, digits: number) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, round(v, digits)]));

function measuredJson(x: Measured) {
  return {
    opsPerSecond: round(perSecond(x), 0),
    latencyMs: rounded(latencyOf(x.latencies), 2),
    ok: x.ok,
    decidedAgain: x.decidedAgain,
    conflicts409: x.conflicts409,
    errors: x.errors,
    errorSample: x.errorSample ?? null,
    guard: x.guard,
    cpuPercent: x.cpu,
    cpuUsPerOp: rounded(cpuPerOp(x), 0),
    idleMachineBefore: x.idleBefore,
    attempts: x.attempts,
  };
}

type Row = {
  what: string;
  clients: string;
  ops?: number;
  p50?: number;
  p99?: number;
  max?: number;
  again?: number;
  c409?: number;
  errors?: number;
  guardConflicts?: number;
  fromLog?: number;
  clientUs?: number;
  guardUs?: number;
  redisUs?: number;
  ratio?: boolean;
};

function rowOf(what: string, clients: number, x: Measured): Row {
  const l = latencyOf(x.latencies);
  return {
    what,
    clients: String(clients),
    ops: perSecond(x),
    p50: l.p50,
    p99: l.p99,
    max: l.max,
    again: x.decidedAgain,
    c409: x.conflicts409,
    errors: x.errors,
    guardConflicts: x.guard.conflicts,
    fromLog: x.guard.loadsFromLog,
    clientUs: cpuPerOp(x).client,
    guardUs: cpuPerOp(x).guards,
    redisUs: cpuPerOp(x).redis,
  };
}

function ratioRow(what: string, clients: number, r: Ratios): Row {
  return {
    what,
    clients: String(clients),
    ops: r.opsPerSecond,
    p50: r.p50,
    p99: r.p99,
    guardUs: r.guardUsPerOp,
    redisUs: r.redisUsPerOp,
    ratio: true,
  };
}

const cell = (r: Row, n: number | undefined, digits = 1) => (r.ratio ? times(n ?? Number.NaN) : fmt(n, digits));
const count = (r: Row, n: number | undefined) => (r.ratio || n === undefined ? '' : fmt(n, 0));
const common: Column<Row>[] = [
  { header: 'what', value: (r) => r.what },
  { header: 'clients', value: (r) => r.clients, align: 'right' },
  { header: 'ops/s', value: (r) => cell(r, r.ops, 0), align: 'right' },
  { header: 'p50 ms', value: (r) => cell(r, r.p50), align: 'right' },
  { header: 'p99 ms', value: (r) => cell(r, r.p99), align: 'right' },
  { header: 'max ms', value: (r) => (r.ratio ? '' : fmt(r.max)), align: 'right' },
];
const perOp: Column<Row>[] = [
  { header: 'client CPU µs/op', value: (r) => (r.ratio ? '' : fmt(r.clientUs, 0)), align: 'right' },
  { header: 'guard CPU µs/op', value: (r) => cell(r, r.guardUs, 0), align: 'right' },
  { header: 'Redis CPU µs/op', value: (r) => cell(r, r.redisUs, 0), align: 'right' },
];

export function printReport(
  run: CommandRun,
  head: { runDir: string; machine: Record<string, string | number>; settings: Record<string, string | number> },
  writeFigures: (file: string, text: string) => void,
): void {
  const { options, hot, cold } = run;
  const distinct = run.distinct.map((d) => ({
    ...d,
    overRaw: against(d.command, d.raw),
    overNodeHttp: against(d.command, d.rawNodeHttp),
  }));
  const hotRatio = hot ? against(hot.twoGuards, hot.oneGuard) : undefined;
  const coldJson = (cold?.rows ?? []).map((r) => ({
    stream: r.label,
    events: r.events,
    partition: r.partition,
    partitionOffsets: r.offsetsScanned,
    coldMs: {
      median: round(median(r.cold), 1),
      min: round(Math.min(...r.cold), 1),
      max: round(Math.max(...r.cold), 1),
    },
    warmMs: {
      median: round(median(r.warm), 1),
      min: round(Math.min(...r.warm), 1),
      max: round(Math.max(...r.warm), 1),
    },
    coldOverWarm: round(ratio(median(r.cold), median(r.warm)), 2),
    eventsReadPerColdLoad: median(r.eventsRead),
    loadsFromLog: r.loadsFromLog,
  }));
  const out = {
    run: {
      id: run.id,
      runDir: head.runDir,
      machine: head.machine,
      settings: head.settings,
      durationS: options.durationMs / 1000,
      warmupS: options.warmupMs / 1000,
      streamsPerClient: options.streamsPerClient,
      hotClients: options.hotClients,
      samples: options.samples,
    },
    distinctStreams: distinct.map((d) => ({
      clients: d.clients,
      rawAppend: measuredJson(d.raw),
      rawAppendNodeHttp: measuredJson(d.rawNodeHttp),
      command: measuredJson(d.command),
      commandOverRaw: rounded(d.overRaw, 3),
      commandOverRawNodeHttp: rounded(d.overNodeHttp, 3),
    })),
    hotStream:
      hot && hotRatio
        ? {
            stream: `${CATEGORY}-${hot.id}`,
            partition: hot.partition,
            clients: options.hotClients,
            oneGuard: measuredJson(hot.oneGuard),
            twoGuards: measuredJson(hot.twoGuards),
            twoOverOne: rounded(hotRatio, 3),
          }
        : null,
    coldLoads: cold ? { partition: cold.partition, fillerAdded: cold.fillerAdded, rows: coldJson } : null,
  };
  const figures = join(head.runDir, 'figures.json');
  writeFigures(figures, `${JSON.stringify(out, null, 2)}\n`);
  progress(`figures in ${figures}`);
  printFigures(out, options.json, () => {
    const m = head.machine;
    const lines = [
      headerLine('kes commands benchmark', run.id, m),
      `guards started by the bench (kes guard, example modules) on Kafka, Redis and the registry of the local stack; ` +
        `${options.durationMs / 1000} s measured per configuration in two halves, run A B (C) then (C) B A, ${options.warmupMs / 1000} s warm-up before each half`,
      settingsLine(head.settings),
    ];
    if (distinct.length > 0) {
      lines.push(
        '',
        `1. distinct streams: each client cycles through ${options.streamsPerClient} streams of its own, one event per operation ` +
          '(raw: MoneyDeposited with expectedVersion any, through GuardClient.appendToStream (fetch) and through node:http (HttpLoadClient); ' +
          'command: CommandClient.send account deposit on an open account (node:http)), guard 0',
        renderRows(
          distinct.flatMap((d) => [
            rowOf('raw append, GuardClient (baseline)', d.clients, d.raw),
            rowOf('raw append, node:http client', d.clients, d.rawNodeHttp),
            rowOf('command', d.clients, d.command),
            ratioRow('command / raw append (GuardClient)', d.clients, d.overRaw),
            ratioRow('command / raw append (node:http)', d.clients, d.overNodeHttp),
          ]),
          [
            ...common,
            { header: 'decided again', value: (r) => count(r, r.again), align: 'right' },
            { header: 'errors', value: (r) => count(r, r.errors), align: 'right' },
            ...perOp,
          ],
          'table',
        ),
        'CPU µs/op = CPU over the window / successful operations: client = this process (the clients), guard = guard 0 ' +
          '(guard 1 idles), Redis = the stack’s Redis (server-wide); ratio rows divide the command’s figure by that raw append’s',
      );
    }
    if (hot && hotRatio) {
      lines.push(
        '',
        `2. hot stream: ${options.hotClients} clients all depositing to ${CATEGORY}-${hot.id} (partition ${hot.partition}); with two guards client i sends to guard i mod 2`,
        renderRows(
          [
            rowOf('one guard (baseline)', options.hotClients, hot.oneGuard),
            rowOf('two guards, clients alternate', options.hotClients, hot.twoGuards),
            ratioRow('two guards / one guard', options.hotClients, hotRatio),
          ],
          [
            ...common,
            { header: 'decided again', value: (r) => count(r, r.again), align: 'right' },
            { header: '409s', value: (r) => count(r, r.c409), align: 'right' },
            { header: 'errors', value: (r) => count(r, r.errors), align: 'right' },
            { header: 'states read from Kafka', value: (r) => count(r, r.fromLog), align: 'right' },
            ...perOp,
          ],
          'table',
        ),
        'decided again = sum of (attempts − 1) over the answers: decisions a compare-and-swap refused, reloaded and decided again; ' +
          '409 = retries spent (KES_COMMAND_MAX_ATTEMPTS); states read from Kafka = command states folded from the log, not the cache; ' +
          'guard CPU = both guards',
      );
    }
    if (cold) {
      type Cold = (typeof coldJson)[number];
      lines.push(
        '',
        `3. cold loads: the stream's cache entry deleted before each cold command (median of ${options.samples}); warm = the next command on the same stream`,
        renderRows(
          coldJson,
          [
            { header: 'stream', value: (r: Cold) => r.stream },
            { header: 'partition offsets scanned', value: (r: Cold) => fmt(r.partitionOffsets, 0), align: 'right' },
            {
              header: 'cold ms (min–max)',
              value: (r: Cold) => `${fmt(r.coldMs.median)} (${fmt(r.coldMs.min)}–${fmt(r.coldMs.max)})`,
              align: 'right',
            },
            { header: 'warm ms', value: (r: Cold) => fmt(r.warmMs.median), align: 'right' },
            { header: 'cold − warm ms', value: (r: Cold) => fmt(r.coldMs.median - r.warmMs.median), align: 'right' },
            { header: 'cold / warm', value: (r: Cold) => times(r.coldOverWarm), align: 'right' },
            { header: 'events folded', value: (r: Cold) => r.eventsReadPerColdLoad, align: 'right' },
          ],
          'table',
        ),
        `all in partition ${cold.partition}; a missing entry is folded from the partition's first offset to its high watermark: Kafka has no per-stream index, ` +
          "so a cold load reads the whole partition since the stream was cached (here: since offset 0), whatever the stream's own length",
      );
    }
    const cpuRows = [
      ...distinct.flatMap((d) => [
        { phase: `raw append (GuardClient), ${d.clients} client(s)`, x: d.raw },
        { phase: `raw append (node:http), ${d.clients} client(s)`, x: d.rawNodeHttp },
        { phase: `command, ${d.clients} client(s)`, x: d.command },
      ]),
      ...(hot
        ? [
            { phase: 'hot stream, one guard', x: hot.oneGuard },
            { phase: 'hot stream, two guards', x: hot.twoGuards },
          ]
        : []),
    ];
    const cpuNames = [...new Set(cpuRows.flatMap((r) => Object.keys(r.x.cpu)))];
    lines.push(
      '',
      renderRows(
        cpuRows,
        [
          { header: 'CPU % of one core', value: (r) => r.phase },
          ...cpuNames.map((n) => ({
            header: n,
            value: (r: { x: Measured }) => r.x.cpu[n] ?? '—',
            align: 'right' as const,
          })),
          { header: 'idle before', value: (r) => r.x.idleBefore.join(', ') || '—', align: 'right' },
          { header: 'attempts', value: (r) => r.x.attempts.join(', '), align: 'right' },
        ],
        'table',
      ),
    );
    for (const x of cpuRows.map((r) => r.x).filter((x) => x.errorSample))
      lines.push(`an error answered: ${x.errorSample}`);
    return lines;
  });
}
