import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KesError } from '../pipeline/errors.js';
import { isAlive } from './processes.js';

/**
 * One `kes stack up|down` at a time per KES_HOME: two concurrent `up`s would otherwise both see a service down
 * and both start it. The lock is a file created exclusively, holding the owner's pid; a lock whose owner died
 * (kill -9 of a `kes` command) is taken over rather than waited on forever.
 */
export async function withStackLock<T>(
  home: string,
  progress: (line: string) => void,
  fn: () => Promise<T>,
  timeoutMs = 300_000,
): Promise<T> {
  const path = join(home, 'stack.lock');
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number.parseInt(safeRead(path), 10);
    if (!Number.isInteger(owner) || owner <= 0 || !isAlive(owner)) {
      rmSync(path, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new KesError('KES_SERVICE_UNAVAILABLE', `another kes command (pid ${owner}) still holds ${path}`, {
        retriable: true,
        context: { path, owner },
      });
    }
    if (!told) {
      progress(`waiting for another kes command (pid ${owner}) working on this stack`);
      told = true;
    }
    await sleep(200);
  }
  try {
    return await fn();
  } finally {
    rmSync(path, { force: true });
  }
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}
