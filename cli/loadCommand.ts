import { join } from 'node:path';
import { Command, Option } from 'commander';
import { logLevel } from 'kafkajs';
import { ApiKeys } from '../guard/http/apiKeys.js';
import { LOCAL_DEV_KEY, loadConfig } from '../pipeline/config/config.js';
import { CheckFailedError, UsageError } from '../pipeline/errors.js';
import { createKafka } from '../pipeline/kafka/kafkaClient.js';
import { type OutputFormat, outputFormats, progressPrinter, renderRows } from '../pipeline/output/textOutput.js';
import { HistoryWriter } from '../verify/history/history.js';
import { notCheckedOnStderr, renderReport, runCheck } from '../verify/history/report.js';
import { percentile, runWorkload, type WorkloadStats } from '../verify/load/workload.js';
import { lastExit } from './stackCommand.js';

interface LoadFlags {
  url?: string;
  apiKey?: string;
  seconds: string;
  clients: string;
  streams: string;
  category?: string;
  maxEvents: string;
  history?: string;
  check: boolean;
  format: OutputFormat;
  batch?: string | boolean;
  atomic?: string;
}

function positive(name: string, value: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new UsageError(`--${name}: expected a whole number from 1 to ${max}, got '${value}'`);
  return n;
}

/**
 * `kes load`: many concurrent writers on a set of streams through running guards, with the expected versions
 * real writers use, so that they collide. Logs every attempt; with --check, runs the history checker after.
 */
export function loadCommand(): Command {
  return new Command('load')
    .description('run a write workload against running guards, log every attempt, and optionally check the log')
    .exitOverride()
    .showHelpAfterError()
    .option('--url <urls>', 'guard URL(s), comma-separated (default KES_GUARD_URL)')
    .option('--api-key <key>', 'API key (default: the local development key)')
    .option('--seconds <n>', 'how long to write', '10')
    .option('--clients <n>', 'concurrent clients', '32')
    .option('--streams <n>', 'streams to write (1% of them hot)', '100')
    .option('--category <name>', 'category of the streams (default: a new one per run, load_<time>)')
    .option('--max-events <n>', 'events per append, 1 to n', '3')
    .option('--history <file>', 'where to write the attempt log (default .kes/history/<category>.jsonl)')
    .option(
      '--batch [n]',
      'send through the coalescing client: concurrent appends share batch requests of at most n (default 256)',
    )
    .option('--atomic <k>', 'every other append of a client is an atomic batch of k distinct streams')
    .option('--check', 'run the history checker over the log and the committed topics afterwards', false)
    .addOption(new Option('--format <format>', 'output format').choices(outputFormats as string[]).default('table'))
    .action(async (opts: LoadFlags, command: Command) => {
      const flags = command.optsWithGlobals<{ home?: string }>();
      const config = loadConfig({ overrides: { KES_HOME: flags.home } });
      const seconds = positive('seconds', opts.seconds, 86_400);
      const clients = positive('clients', opts.clients, 10_000);
      const streams = positive('streams', opts.streams);
      const maxEvents = positive('max-events', opts.maxEvents, 100);
      const batch =
        opts.batch === undefined
          ? undefined
          : { maxAppends: opts.batch === true ? 256 : positive('batch', String(opts.batch), 1_000) };
      const atomic = opts.atomic === undefined ? undefined : positive('atomic', opts.atomic, Math.min(1_000, streams));
      const category = opts.category ?? `load_${Date.now().toString(36)}`;
      if (!/^[a-z0-9_]+$/.test(category))
        throw new UsageError(`--category: lowercase letters, digits and _ only, got '${category}'`);
      const urls = (opts.url ?? config.KES_GUARD_URL).split(',').map((u) => u.trim());
      for (const u of urls)
        if (!/^https?:\/\/[^\s]+$/.test(u)) throw new UsageError(`--url: not an http(s) URL: '${u}'`);
      ApiKeys.parse(config.KES_API_KEYS); // a broken key setting fails here, before any load
      const historyPath = opts.history ?? join(config.KES_HOME, 'history', `${category}.jsonl`);
      const history = new HistoryWriter(historyPath);
      const progress = progressPrinter();
      progress(
        `writing to ${category}-0..${streams - 1} through ${urls.join(', ')} for ${seconds}s with ${clients} clients`,
      );
      let stats: WorkloadStats;
      try {
        stats = await runWorkload({
          urls,
          apiKey: opts.apiKey ?? LOCAL_DEV_KEY,
          category,
          streams,
          concurrency: clients,
          durationMs: seconds * 1000,
          maxEventsPerAppend: maxEvents,
          history,
          ...(batch === undefined ? {} : { batch }),
          ...(atomic === undefined ? {} : { atomic }),
          onProgress: (s) =>
            progress(
              `${s.appends} appends: ${s.written} written, ${s.conflicts} conflicts, ${s.rejected} rejected, ${s.unknown} unknown`,
            ),
        });
      } finally {
        await history.close();
      }
      const sorted = [...stats.latenciesMs].sort((a, b) => a - b);
      const row = {
        ...stats,
        perSecond: Math.round((stats.written / stats.elapsedMs) * 1000),
        p50: percentile(sorted, 50).toFixed(1),
        p99: percentile(sorted, 99).toFixed(1),
      };
      process.stdout.write(
        `${renderRows(
          [row],
          [
            { header: 'appends', value: (r) => r.appends },
            { header: 'written', value: (r) => r.written },
            { header: 'retries answered from first write', value: (r) => r.duplicates },
            { header: 'conflicts', value: (r) => r.conflicts },
            { header: 'rejected', value: (r) => r.rejected },
            { header: 'unknown', value: (r) => r.unknown },
            ...(atomic === undefined
              ? []
              : [
                  { header: 'atomic batches', value: (r: typeof row) => r.atomicBatches },
                  { header: 'atomic written', value: (r: typeof row) => r.atomicWritten },
                  { header: 'aborted with their batch', value: (r: typeof row) => r.aborted },
                ]),
            { header: 'events', value: (r) => r.events },
            { header: 'written/s', value: (r) => r.perSecond },
            { header: 'p50 ms', value: (r) => r.p50 },
            { header: 'p99 ms', value: (r) => r.p99 },
          ],
          opts.format,
        )}\n`,
      );
      progress(`attempt log: ${historyPath}`);
      lastExit.code = 0;
      if (!opts.check) return;
      const kafka = createKafka(config, 'kes-load-check', { logLevel: logLevel.NOTHING });
      const report = await runCheck({
        kafka,
        historyPath,
        topicPrefix: config.KES_TOPIC_PREFIX,
        // Other categories under the prefix were written by others; this run's streams are all checked.
        allowUnlogged: true,
        idempotencyWindowMs: config.KES_IDEMPOTENCY_WINDOW_S * 1000,
        onProgress: progress,
        kafkaAddress: config.KAFKA_BROKERS.join(','),
      });
      process.stdout.write(`${renderReport(report, opts.format)}\n`);
      if (notCheckedOnStderr(opts.format)) for (const line of report.notChecked) process.stderr.write(`${line}\n`);
      if (report.violations.length > 0) throw new CheckFailedError(report.violations.length);
    });
}
