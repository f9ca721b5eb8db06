import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../pipeline/config/config.js';
import { UsageError } from '../../pipeline/errors.js';
import type { Experiment } from './experiment.js';
import { positiveNumber } from './optionValues.js';
import { runLab } from './runLab.js';

function experiment(name: string, ran: string[]): Experiment {
  return {
    name,
    title: name,
    summary: name,
    options: [{ name: 'seconds', description: 'seconds', full: '5', quick: '1' }],
    check: (option) => {
      positiveNumber(name, 'seconds', option('seconds'));
    },
    run: async () => {
      ran.push(name);
      return { settings: {}, tables: [], charts: [], reading: '' };
    },
  };
}

describe('runLab', () => {
  it('checks every experiment option before any experiment runs, and writes nothing when one is wrong', async () => {
    const ran: string[] = [];
    const out = join(mkdtempSync(join(tmpdir(), 'kes-lab-unit-')), 'run');
    const run = runLab([experiment('first', ran), experiment('second', ran)], {
      quick: true,
      seed: 1,
      given: new Map([['second', new Map([['seconds', '0']])]]),
      config: loadConfig({ env: {} }),
      root: process.cwd(),
      out,
      progress: () => {},
    });
    await expect(run).rejects.toThrow(UsageError);
    await expect(run).rejects.toThrow("lab second --seconds: expected a positive number, got '0'");
    expect(ran).toEqual([]);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a flag the experiment does not have, naming the ones it has', async () => {
    const run = runLab([experiment('first', [])], {
      quick: true,
      seed: 1,
      given: new Map([['first', new Map([['secnds', '1']])]]),
      config: loadConfig({ env: {} }),
      root: process.cwd(),
      out: join(tmpdir(), 'kes-lab-never'),
      progress: () => {},
    });
    await expect(run).rejects.toThrow(/secnds/);
  });
});
