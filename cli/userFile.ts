import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CommandModule } from '../guard/commands/decider.js';
import { checkModules } from '../guard/commands/moduleShape.js';
import { ConfigError } from '../pipeline/errors.js';
import type { Projection } from '../projectors/readModels/projection.js';
import { checkProjections } from '../projectors/readModels/projectionShape.js';
import { PROJECTIONS } from '../projectors/readModels/registry.js';
import type { ReportDefinition } from '../projectors/reports/reportDefinitions.js';

/**
 * A user's compiled ES module, loaded by `kes guard --modules <file>` and `kes project --projections <file>`
 * (docs/modules-and-projections.md). What it must export:
 *
 *   export const modules = [ … ];       // --modules: decider modules (CommandModule), one per category
 *   export const projections = [ … ];   // --projections: projections (tableProjection({ … }))
 *   export const reports = [ … ];       // --projections, optional: reports over the read models
 *
 * One file may export all three. Everything is checked on load; an error names the file, the export, the entry
 * and the field that is wrong.
 */
export async function importUserFile(file: string, flag: string): Promise<Record<string, unknown>> {
  const path = resolve(file);
  const where = `${flag} ${file}`;
  if (!existsSync(path)) throw new ConfigError(where, `no such file (looked for ${path})`);
  try {
    return (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    const hint = /\.(ts|mts|cts)$/.test(path)
      ? ' (a module file is compiled JavaScript: run tsc and give the .js)'
      : '';
    throw new ConfigError(
      where,
      `could not be imported${hint}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

function exported(loaded: Record<string, unknown>, name: string, where: string, shape: string): unknown {
  if (name in loaded) return loaded[name];
  const names = Object.keys(loaded).filter((k) => k !== 'default');
  throw new ConfigError(
    where,
    `exports no '${name}' (it exports ${names.length === 0 ? 'nothing named' : names.join(', ')}); it must export ${shape}`,
  );
}

export async function loadModulesFile(file: string): Promise<readonly CommandModule[]> {
  const where = `--modules ${file}`;
  const loaded = await importUserFile(file, '--modules');
  return checkModules(exported(loaded, 'modules', where, '`modules`, an array of decider modules'), where);
}

export interface ProjectionsFile {
  projections: readonly Projection[];
  reports: readonly ReportDefinition[];
}

export async function loadProjectionsFile(file: string): Promise<ProjectionsFile> {
  const where = `--projections ${file}`;
  const loaded = await importUserFile(file, '--projections');
  const projections = checkProjections(
    exported(loaded, 'projections', where, '`projections`, an array of projections (tableProjection({ … }))'),
    where,
    PROJECTIONS.map((p) => p.name),
  );
  return { projections, reports: checkReports(loaded.reports ?? [], where) };
}

function checkReports(value: unknown, where: string): readonly ReportDefinition[] {
  if (!Array.isArray(value)) throw new ConfigError(where, 'reports must be an array of report definitions');
  value.forEach((report: Partial<Record<keyof ReportDefinition, unknown>> | null, i) => {
    const problem =
      typeof report !== 'object' || report === null
        ? 'a report is an object'
        : typeof report.name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(report.name)
          ? 'name must be lowercase letters, digits and -'
          : typeof report.description !== 'string'
            ? 'description must be a string'
            : !Array.isArray(report.options) || !Array.isArray(report.columns)
              ? 'options and columns must be arrays'
              : typeof report.sql !== 'function'
                ? 'sql must be a function (database, options) => SELECT'
                : undefined;
    if (problem) throw new ConfigError(where, `reports[${i}]: ${problem}`);
  });
  return value as readonly ReportDefinition[];
}
