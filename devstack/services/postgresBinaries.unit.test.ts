import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { newestVersion, postgresBinDir } from './postgresBinaries.js';

describe('newestVersion', () => {
  it('compares versions as numbers, old two-part ones included', () => {
    expect(newestVersion(['9.6', '15', '16', '10'])).toBe('16');
    expect(newestVersion(['9.5', '9.6'])).toBe('9.6');
    expect(newestVersion(['common', 'README'])).toBeUndefined();
  });
});

describe('postgresBinDir', () => {
  let root: string | undefined;
  afterEach(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  function install(version: string, tools: string[]): void {
    const bin = join(root as string, version, 'bin');
    mkdirSync(bin, { recursive: true });
    for (const tool of tools) {
      writeFileSync(join(bin, tool), '#!/bin/sh\n');
      chmodSync(join(bin, tool), 0o755);
    }
  }

  it('takes the newest version that has a server, passing over a client-only one', () => {
    root = mkdtempSync(join(tmpdir(), 'kes-pgbin-'));
    install('15', ['postgres', 'initdb']);
    install('16', ['psql']);
    expect(postgresBinDir('', root)).toBe(join(root, '15', 'bin'));
  });

  it('is undefined when nothing is installed', () => {
    root = mkdtempSync(join(tmpdir(), 'kes-pgbin-'));
    expect(postgresBinDir('', join(root, 'absent'))).toBeUndefined();
  });
});
