import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from '../../pipeline/errors.js';
import { checkModules } from './moduleShape.js';

const good = () => ({
  category: 'stock',
  service: 'stock',
  stateVersion: 1,
  commands: { receive: z.object({ quantity: z.number() }) },
  initialState: () => ({}),
  evolve: (s: unknown) => s,
  decide: () => [],
});

const problem = (value: unknown) => {
  try {
    checkModules(value, 'mods.js');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  return undefined;
};

describe('checkModules', () => {
  it('accepts a list of well-formed modules, and an empty list', () => {
    expect(checkModules([good()], 'mods.js')).toHaveLength(1);
    expect(checkModules([], 'mods.js')).toEqual([]);
  });

  it('names the source, the module and the field that is wrong', () => {
    expect(problem({})).toBe('mods.js: modules must be an array of decider modules, got an object');
    expect(problem([42])).toBe('mods.js: modules[0]: a module is an object, got number');
    expect(problem([{ ...good(), category: 'Stock' }])).toBe(
      "mods.js: modules[0] (Stock): category must be 1 to 100 lowercase letters, digits or _, got 'Stock'",
    );
    expect(problem([{ ...good(), service: '' }])).toContain('modules[0] (stock): service must be a non-empty string');
    expect(problem([{ ...good(), stateVersion: 1.5 }])).toContain('stateVersion must be a whole number >= 0, got 1.5');
    expect(problem([{ ...good(), decide: undefined }])).toBe(
      'mods.js: modules[0] (stock): decide must be a function, got undefined',
    );
    expect(problem([{ ...good(), commands: {} }])).toContain('commands must be an object of one zod schema');
    expect(problem([{ ...good(), commands: { receive: { parse: 1 } } }])).toContain(
      'commands.receive must be a zod schema (something with safeParse), got an object',
    );
  });

  it('refuses two modules of one category', () => {
    expect(problem([good(), { ...good(), service: 'other' }])).toBe(
      "mods.js: modules[0] and modules[1] both own category 'stock'",
    );
  });
});
