import { ConfigError } from '../../pipeline/errors.js';
import type { Projection } from './projection.js';

/**
 * Checks that a value is a list of projections a projector can run, before anything starts: projections may be
 * user code loaded from a file at run time. `where` names the source and starts every error, followed by the
 * projection and the field that is wrong. `taken` are names already in use (kes's own `events`).
 */
export function checkProjections(value: unknown, where: string, taken: readonly string[] = []): readonly Projection[] {
  if (!Array.isArray(value)) throw new ConfigError(where, `projections must be an array, got ${kind(value)}`);
  const names = new Map<string, number>();
  value.forEach((projection, i) => {
    const problem = projectionProblem(projection);
    const label = isRecord(projection) && typeof projection.name === 'string' ? ` (${projection.name})` : '';
    if (problem) throw new ConfigError(where, `projections[${i}]${label}: ${problem}`);
    const { name } = projection as Projection;
    if (taken.includes(name)) throw new ConfigError(where, `projections[${i}]: the name '${name}' is kes's own`);
    const first = names.get(name);
    if (first !== undefined) throw new ConfigError(where, `projections[${first}] and [${i}] are both named '${name}'`);
    names.set(name, i);
  });
  return value as readonly Projection[];
}

export function projectionProblem(projection: unknown): string | undefined {
  if (!isRecord(projection)) return `a projection is an object (tableProjection({ … })), got ${kind(projection)}`;
  if (typeof projection.name !== 'string' || !/^[a-z][a-z0-9_-]{0,62}$/.test(projection.name)) {
    return 'name must be 1 to 63 lowercase letters, digits, - or _';
  }
  if (typeof projection.description !== 'string')
    return `description must be a string, got ${kind(projection.description)}`;
  if (typeof projection.sinkTable !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(projection.sinkTable)) {
    return 'sinkTable must be a ClickHouse identifier (letters, digits, _)';
  }
  for (const fn of ['createStatements', 'dropStatements', 'views', 'row'] as const) {
    if (typeof projection[fn] !== 'function') return `${fn} must be a function, got ${kind(projection[fn])}`;
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}
