import { Command, Option } from 'commander';
import { logLevel } from 'kafkajs';
import { openEngine } from '../pipeline/clickhouse/openEngine.js';
import { type KesConfig, loadConfig } from '../pipeline/config/config.js';
import { createKafka } from '../pipeline/kafka/kafkaClient.js';
import { type OutputFormat, outputFormats, progressPrinter, renderRows } from '../pipeline/output/textOutput.js';
import { ProjectionCatalog } from '../projectors/catalog/projectionCatalog.js';
import { ProjectorMetrics } from '../projectors/metrics.js';
import type { Projection } from '../projectors/readModels/projection.js';
import { PROJECTIONS, projectionNamed } from '../projectors/readModels/registry.js';
import { rebuildProjection } from '../projectors/rebuild/rebuildProjection.js';
import { type ProjectionStatus, projectionStatus } from '../projectors/status/projectionStatus.js';
import { loadProjectionsFile } from './userFile.js';

interface GlobalFlags {
  home?: string;
}

const projectionsOption = () =>
  new Option(
    '--projections <file>',
    'also the projections of this compiled ES module (see `kes project --projections`)',
  );

/** kes's own projections and those of `--projections <file>`. */
async function available(file: string | undefined): Promise<readonly Projection[]> {
  return file === undefined ? PROJECTIONS : [...PROJECTIONS, ...(await loadProjectionsFile(file)).projections];
}

/** `kes projections list|status|rebuild`: what the read models are, how far behind, and rebuilding one. */
export function projectionsCommand(): Command {
  const command = new Command('projections').description('the read-model projections: list, status, rebuild');
  command
    .command('list')
    .description('the projections kes knows')
    .addOption(new Option('--format <format>', 'output format').choices(outputFormats as string[]).default('table'))
    .addOption(projectionsOption())
    .exitOverride()
    .action(async (opts: { format: OutputFormat; projections?: string }) => {
      const rows = (await available(opts.projections)).map((p) => ({ name: p.name, description: p.description }));
      process.stdout.write(
        `${renderRows(
          rows,
          [
            { header: 'projection', value: (r) => r.name },
            { header: 'description', value: (r) => r.description },
          ],
          opts.format,
        )}\n`,
      );
    });
  command
    .command('status')
    .description('per projection: version, partitions, lag, freshness, dead letters, rebuild progress')
    .addOption(new Option('--format <format>', 'output format').choices(outputFormats as string[]).default('table'))
    .addOption(projectionsOption())
    .exitOverride()
    .action(async (opts: { format: OutputFormat; projections?: string }, sub: Command) => {
      const projections = await available(opts.projections);
      const config = configOf(sub);
      await withCatalog(config, async (catalog, kafka) => {
        const status = await projectionStatus(
          {
            kafka,
            catalog,
            topicPrefix: config.KES_TOPIC_PREFIX,
            deadLetterPrefix: config.KES_DEADLETTER_PREFIX,
          },
          projections,
        );
        process.stdout.write(`${renderStatus(status, opts.format)}\n`);
      });
    });
  command
    .command('rebuild <name>')
    .description('build a new version from offset 0 while the current one serves, then swap atomically')
    .addOption(projectionsOption())
    .exitOverride()
    .action(async (name: string, opts: { projections?: string }, sub: Command) => {
      const projection = projectionNamed(name, await available(opts.projections));
      const config = configOf(sub);
      const log = progressPrinter();
      await withCatalog(config, async (catalog, kafka) => {
        let lastShown = 0;
        const result = await rebuildProjection({
          kafka,
          catalog,
          projection,
          settings: config,
          metrics: new ProjectorMetrics(),
          log,
          onProgress: (done, target) => {
            if (Date.now() - lastShown < 1_000) return;
            lastShown = Date.now();
            log(`${done} / ${target} records (${target === 0 ? 100 : Math.floor((100 * done) / target)}%)`);
          },
        });
        process.stdout.write(
          `rebuilt ${name}: version ${result.from ?? '-'} -> ${result.to}, ${result.events} records in ${result.seconds.toFixed(1)} s\n`,
        );
      });
    });
  return command;
}

function configOf(command: Command): KesConfig {
  return loadConfig({ overrides: { KES_HOME: command.optsWithGlobals<GlobalFlags>().home } });
}

async function withCatalog(
  config: KesConfig,
  body: (catalog: ProjectionCatalog, kafka: ReturnType<typeof createKafka>) => Promise<void>,
): Promise<void> {
  const engine = await openEngine(config);
  try {
    const catalog = new ProjectionCatalog(engine, config.KES_CLICKHOUSE_DATABASE, config.KES_PROJECTOR_GROUP_PREFIX);
    await body(catalog, createKafka(config, 'kes-projections', { logLevel: logLevel.NOTHING }));
  } finally {
    await engine.close();
  }
}

const ms = (value: number | undefined) =>
  value === undefined ? '-' : value < 10_000 ? `${value} ms` : `${(value / 1000).toFixed(1)} s`;

export function renderStatus(status: readonly ProjectionStatus[], format: OutputFormat): string {
  return renderRows(
    status,
    [
      { header: 'projection', value: (s) => s.projection },
      { header: 'version', value: (s) => s.version ?? '-' },
      { header: 'partitions', value: (s) => s.partitions },
      { header: 'lag', value: (s) => s.lag },
      { header: 'freshness', value: (s) => (format === 'table' ? ms(s.freshnessMs) : s.freshnessMs) },
      { header: 'last batch', value: (s) => (format === 'table' ? ms(s.lastBatchAgeMs) : s.lastBatchAgeMs) },
      { header: 'dead letters', value: (s) => s.deadLetters },
      {
        header: 'rebuild',
        value: (s) =>
          s.rebuild
            ? `v${s.rebuild.version} ${s.rebuild.targetEvents === 0 ? 100 : Math.floor((100 * s.rebuild.doneEvents) / s.rebuild.targetEvents)}%`
            : '-',
      },
    ],
    format,
  );
}
