import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { asUser, chosenServerDir, serverUser } from './postgresServerUser.js';

describe('asUser', () => {
  it('runs the command itself when no other user is needed', () => {
    expect(asUser(undefined, '/pg/bin/postgres', ['-D', 'data'])).toEqual({
      command: '/pg/bin/postgres',
      args: ['-D', 'data'],
    });
  });

  it('wraps it in setpriv, which execs in place, to drop root', () => {
    expect(asUser({ name: 'postgres', uid: 101, gid: 104 }, '/pg/bin/postgres', ['-D', 'data'])).toEqual({
      command: 'setpriv',
      args: ['--reuid=101', '--regid=104', '--init-groups', '--', '/pg/bin/postgres', '-D', 'data'],
    });
  });
});

describe('serverUser', () => {
  it('is nobody else for a non-root uid', () => {
    expect(serverUser(1000)).toBeUndefined();
  });
});

describe('chosenServerDir', () => {
  it('is the service directory unless data-dir names where the server was moved', () => {
    const own = mkdtempSync(join(tmpdir(), 'kes-pg-own-'));
    expect(chosenServerDir(own)).toBe(own);
    writeFileSync(join(own, 'data-dir'), '/var/tmp/kes-postgres/0123456789abcdef\n');
    expect(chosenServerDir(own)).toBe('/var/tmp/kes-postgres/0123456789abcdef');
  });
});
