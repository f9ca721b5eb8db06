import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from './main.js';

describe('kes --version', () => {
  afterEach(() => vi.restoreAllMocks());

  it("prints package.json's version and exits 0", async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    expect(await main(['node', 'kes', '--version'])).toBe(0);
    expect(written.join('')).toBe(`${version}\n`);
  });
});
