import { ConfigError } from '../../pipeline/errors.js';
import { isObject, kindOf } from '../../pipeline/isObject.js';
import type { Projection } from './projection.js';

/**
 * Checks that a value is a list of projections a projector can run, before anything starts: projections may be
 * user code loaded from a file at run time. `where` names the source and starts every error, followed by the
 * projection and the field that is wrong. `taken` are names already in use (kes's own `events`).
 */
export function checkProjections(value: unknown, where: string, taken: readonly string[] = []): readonly Projection[] {
  if (!Array.isArray(value)) throw new ConfigError(where, `projections must be an array, got ${kindOf(value)}`);
  const names = new Map<string, number>();
  value.forEach((projection, i) => {
    const problem = projectionProblem(projection);
    const label = isObject(projection) && typeof projection.name === 'string' ? ` (${projection.name})` : '';
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
  if (!isObject(projection)) return `a projection is an object (tableProjection({ … })), got ${kindOf(projection)}`;
  if (typeof projection.name !== 'string' || !/^[a-z][a-z0-9_-]{0,62}$/.test(projection.name)) {
    return 'name must be 1 to 63 lowercase letters, digits, - or _';
  }
  if (typeof projection.description !== 'string')
    return `description must be a string, got ${kindOf(projection.description)}`;
  if (typeof projection.sinkTable !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(projection.sinkTable)) {
    return 'sinkTable must be a ClickHouse identifier (letters, digits, _)';
  }
  for (const fn of ['createStatements', 'dropStatements', 'views', 'row'] as const) {
    if (typeof projection[fn] !== 'function') return `${fn} must be a function, got ${kindOf(projection[fn])}`;
  }
  return undefined;
}
