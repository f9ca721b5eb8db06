import { ConfigError } from '../../pipeline/errors.js';
import { isCategory } from '../../pipeline/events/streamName.js';
import { isObject, kindOf } from '../../pipeline/isObject.js';
import type { CommandModule } from './decider.js';

/**
 * Checks that a value is a list of decider modules a guard can host, before the guard starts: a module file is
 * user code loaded at run time, so nothing typed it. `where` names where the list came from (a file, `startGuard`)
 * and is the start of every error, followed by the module and the field that is wrong.
 */
export function checkModules(value: unknown, where: string): readonly CommandModule[] {
  if (!Array.isArray(value))
    throw new ConfigError(where, `modules must be an array of decider modules, got ${kindOf(value)}`);
  const categories = new Map<string, number>();
  value.forEach((module, i) => {
    const problem = moduleProblem(module);
    const name = isObject(module) && typeof module.category === 'string' ? ` (${module.category})` : '';
    if (problem) throw new ConfigError(where, `modules[${i}]${name}: ${problem}`);
    const category = (module as CommandModule).category;
    const first = categories.get(category);
    if (first !== undefined) {
      throw new ConfigError(where, `modules[${first}] and modules[${i}] both own category '${category}'`);
    }
    categories.set(category, i);
  });
  return value as readonly CommandModule[];
}

/** What is wrong with one module, or undefined. */
export function moduleProblem(module: unknown): string | undefined {
  if (!isObject(module)) return `a module is an object, got ${kindOf(module)}`;
  if (typeof module.category !== 'string' || !isCategory(module.category)) {
    return `category must be 1 to 100 lowercase letters, digits or _, got ${show(module.category)}`;
  }
  if (typeof module.service !== 'string' || module.service.length === 0) {
    return `service must be a non-empty string, got ${show(module.service)}`;
  }
  if (!Number.isSafeInteger(module.stateVersion) || (module.stateVersion as number) < 0) {
    return `stateVersion must be a whole number >= 0, got ${show(module.stateVersion)}`;
  }
  for (const fn of ['initialState', 'evolve', 'decide'] as const) {
    if (typeof module[fn] !== 'function') return `${fn} must be a function, got ${kindOf(module[fn])}`;
  }
  if (!isObject(module.commands) || Object.keys(module.commands).length === 0) {
    return `commands must be an object of one zod schema per command type, got ${kindOf(module.commands)}`;
  }
  for (const [type, schema] of Object.entries(module.commands)) {
    if (!isObject(schema) || typeof schema.safeParse !== 'function') {
      return `commands.${type} must be a zod schema (something with safeParse), got ${kindOf(schema)}`;
    }
  }
  return undefined;
}

function show(value: unknown): string {
  return typeof value === 'string' ? `'${value.slice(0, 60)}'` : value === undefined ? 'nothing' : String(value);
}
