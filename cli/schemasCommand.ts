import { Command, Option } from 'commander';
import { loadConfig } from '../pipeline/config/config.js';
import { exitCodeFor, SchemaIncompatibleError } from '../pipeline/errors.js';
import { type Column, type OutputFormat, outputFormats, renderRows } from '../pipeline/output/textOutput.js';
import { loadLocalSchemas } from '../pipeline/schemas/localSchemas.js';
import { checkSchemas, type PushedSchema, pushSchemas, type SchemaCheck } from '../pipeline/schemas/schemaCheck.js';
import { lastExit } from './stackCommand.js';

const checkColumns: Column<SchemaCheck>[] = [
  { header: 'file', value: (r) => r.file },
  { header: 'type', value: (r) => r.type },
  { header: 'subject', value: (r) => r.subject },
  { header: 'status', value: (r) => r.status },
  { header: 'registered', value: (r) => r.registeredVersion },
  { header: 'compatibility', value: (r) => r.compatibility },
  { header: 'detail', value: (r) => r.detail },
];

const pushColumns: Column<PushedSchema>[] = [
  { header: 'file', value: (r) => r.file },
  { header: 'type', value: (r) => r.type },
  { header: 'subject', value: (r) => r.subject },
  { header: 'status', value: (r) => r.status },
  { header: 'version', value: (r) => r.version },
  { header: 'id', value: (r) => r.id },
  { header: 'compatibility', value: (r) => r.compatibility },
];

interface Flags {
  dir?: string;
  format: OutputFormat;
}

function settings(command: Command, flags: Flags) {
  const globals = command.optsWithGlobals<{ home?: string }>();
  const config = loadConfig({ overrides: { KES_HOME: globals.home, KES_SCHEMAS_DIR: flags.dir } });
  return { registryUrl: config.SCHEMA_REGISTRY_URL, dir: config.KES_SCHEMAS_DIR };
}

const dirOption = () => new Option('--dir <dir>', 'schema directory (env KES_SCHEMAS_DIR, default ./schemas)');
const formatOption = () =>
  new Option('--format <format>', 'output format').choices(outputFormats as string[]).default('table');

export function schemasCommand(): Command {
  const schemas = new Command('schemas')
    .description('the Avro schemas of the events (schemas/**/<Type>.avsc) and the registry')
    .exitOverride()
    .showHelpAfterError();

  schemas
    .command('check')
    .description('compare the local schemas with the registry (exit 9 when one would be refused); registers nothing')
    .addOption(dirOption())
    .addOption(formatOption())
    .action(async (flags: Flags, command: Command) => {
      const { registryUrl, dir } = settings(command, flags);
      const rows = await checkSchemas(registryUrl, loadLocalSchemas(dir));
      process.stdout.write(`${renderRows(rows, checkColumns, flags.format)}\n`);
      const refused = rows.filter((r) => r.status === 'incompatible');
      const first = refused[0];
      if (first) {
        const error = new SchemaIncompatibleError(first.subject, `${first.file}: ${first.detail ?? 'refused'}`);
        process.stderr.write(`kes: ${refused.length} of ${rows.length} schema(s) would be refused: ${error.message}\n`);
        lastExit.code = exitCodeFor(error);
      }
    });

  schemas
    .command('push')
    .description('apply compatibility.json and register the local schemas (nothing is registered if one is refused)')
    .addOption(dirOption())
    .addOption(formatOption())
    .action(async (flags: Flags, command: Command) => {
      const { registryUrl, dir } = settings(command, flags);
      const rows = await pushSchemas(registryUrl, loadLocalSchemas(dir));
      process.stdout.write(`${renderRows(rows, pushColumns, flags.format)}\n`);
    });

  return schemas;
}
