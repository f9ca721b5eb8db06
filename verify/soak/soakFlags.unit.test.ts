import { describe, expect, it } from 'vitest';
import { FAULT_KINDS } from './faultSchedule.js';
import { parseSoakFlags } from './soakFlags.js';

const parse = (...argv: string[]) => parseSoakFlags(argv, () => 1234);

describe('parseSoakFlags', () => {
  it('has defaults for a short run, with a random seed', () => {
    expect(parse()).toMatchObject({
      appends: 10_000,
      seconds: undefined,
      seed: 1234,
      kinds: [...FAULT_KINDS],
      guards: 2,
      clients: 24,
      projectors: 2,
      faultGapMs: 10_000,
      everyFault: false,
      json: false,
    });
  });

  it('reads every flag', () => {
    expect(
      parse(
        '--appends',
        '1000000',
        '--seconds',
        '600',
        '--seed',
        '7',
        '--faults',
        'guard-kill,broker-kill',
        '--guards',
        '3',
        '--clients',
        '8',
        '--projectors',
        '1',
        '--streams',
        '50',
        '--fault-gap',
        '3',
        '--every-fault',
        '--json',
      ),
    ).toMatchObject({
      appends: 1_000_000,
      seconds: 600,
      seed: 7,
      kinds: ['guard-kill', 'broker-kill'],
      guards: 3,
      clients: 8,
      projectors: 1,
      streams: 50,
      faultGapMs: 3_000,
      everyFault: true,
      json: true,
    });
  });

  it('names the bad flag', () => {
    expect(() => parse('--appends', '1e6x')).toThrow(/--appends: expected a whole number .* got '1e6x'/);
    expect(() => parse('--guards', '5')).toThrow(/--guards: expected a whole number from 2 to 3/);
    expect(() => parse('--faults', 'guard-kill,meteor')).toThrow(/unknown fault 'meteor'/);
    expect(() => parse('--apends', '5')).toThrow(/Unknown option '--apends'/);
  });
});
