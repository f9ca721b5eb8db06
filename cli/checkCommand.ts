import { Command, Option } from 'commander';
import { logLevel } from 'kafkajs';
import { openEngine } from '../pipeline/clickhouse/openEngine.js';
import { loadConfig } from '../pipeline/config/config.js';
import { CheckFailedError, UsageError } from '../pipeline/errors.js';
import { createKafka } from '../pipeline/kafka/kafkaClient.js';
import { type OutputFormat, outputFormats, progressPrinter } from '../pipeline/output/textOutput.js';
import { ProjectionCatalog } from '../projectors/catalog/projectionCatalog.js';
import { notCheckedOnStderr, renderReport, runCheck } from '../verify/history/report.js';
import { readModelsCheck } from '../verify/readModels/readModelCheck.js';
import { lastExit } from './stackCommand.js';

/**
 * `kes check`: compares a history of append attempts (JSONL, written by clients) with what Kafka committed and
 * reports every violation of invariants 1–4 (and 5, the read models, with --read-models). Exit 13 when there is one, 0 otherwise.
 */
export function checkCommand(): Command {
  return new Command('check')
    .description(
      'check a history of append attempts against what Kafka committed (invariants 1-4; 5 with --read-models)',
    )
    .exitOverride()
    .showHelpAfterError()
    .requiredOption(
      '--history <file.jsonl>',
      'history of append attempts, one JSON object a line (repeat for several files)',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option('--topic-prefix <prefix>', 'category topics are <prefix><category> (default: KES_TOPIC_PREFIX)')
    .option('--allow-unlogged', 'count committed events no attempt logged instead of reporting them', false)
    .option('--timeout <seconds>', 'give up reading Kafka after this long', '600')
    .option(
      '--read-models',
      'also check invariant 5: the read models in ClickHouse (KES_CLICKHOUSE_DATABASE) equal the log',
      false,
    )
    .option(
      '--read-models-wait <seconds>',
      'how long the projectors get to catch up before a missing event counts',
      '60',
    )
    .addOption(new Option('--format <format>', 'output format').choices(outputFormats as string[]).default('table'))
    .action(
      async (
        opts: {
          history: string[];
          topicPrefix?: string;
          allowUnlogged: boolean;
          timeout: string;
          readModels: boolean;
          readModelsWait: string;
          format: OutputFormat;
        },
        command: Command,
      ) => {
        const flags = command.optsWithGlobals<{ home?: string }>();
        const config = loadConfig({
          overrides: { KES_HOME: flags.home, KES_TOPIC_PREFIX: opts.topicPrefix },
        });
        const timeoutS = Number(opts.timeout);
        if (!Number.isFinite(timeoutS) || timeoutS <= 0) {
          throw new UsageError(`--timeout: expected a positive number of seconds, got '${opts.timeout}'`);
        }
        const waitS = Number(opts.readModelsWait);
        if (!Number.isFinite(waitS) || waitS < 0) {
          throw new UsageError(`--read-models-wait: expected a number of seconds, got '${opts.readModelsWait}'`);
        }
        const engine = opts.readModels ? await openEngine(config) : undefined;
        try {
          // kafkajs would log every retry; a failure reaches the user once, as a KesError with the address.
          const kafka = createKafka(config, 'kes-check', { logLevel: logLevel.NOTHING });
          const report = await runCheck({
            kafka,
            historyPath: opts.history,
            topicPrefix: config.KES_TOPIC_PREFIX,
            allowUnlogged: opts.allowUnlogged,
            idempotencyWindowMs: config.KES_IDEMPOTENCY_WINDOW_S * 1000,
            onProgress: progressPrinter(),
            kafkaAddress: config.KAFKA_BROKERS.join(','),
            timeoutMs: timeoutS * 1000,
            checks: engine
              ? [
                  readModelsCheck(
                    new ProjectionCatalog(engine, config.KES_CLICKHOUSE_DATABASE, config.KES_PROJECTOR_GROUP_PREFIX),
                    { topicPrefix: config.KES_TOPIC_PREFIX, waitMs: waitS * 1000 },
                  ),
                ]
              : [],
          });
          process.stdout.write(`${renderReport(report, opts.format)}\n`);
          if (notCheckedOnStderr(opts.format)) for (const line of report.notChecked) process.stderr.write(`${line}\n`);
          if (report.violations.length > 0) throw new CheckFailedError(report.violations.length);
          lastExit.code = 0;
        } finally {
          await engine?.close();
        }
      },
    );
}
