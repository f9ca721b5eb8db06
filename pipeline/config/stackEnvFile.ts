import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * `<home>/stack.env` is where `kes stack up` leaves the addresses of what it started, so that every later kes
 * command (and the test harness) finds the stack without flags. Plain KEY=VALUE lines: a shell can source it.
 */
export function readEnvFile(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  const values: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const eq = trimmed.indexOf('=');
    if (eq <= 0) continue;
    values[trimmed.slice(0, eq)] = trimmed.slice(eq + 1);
  }
  return values;
}

export function writeEnvFile(path: string, values: Record<string, string | undefined>, header: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const lines = [`# ${header}`];
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined) lines.push(`${key}=${value}`);
  }
  // Write then rename, so a reader never sees half a file.
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${lines.join('\n')}\n`);
  renameSync(tmp, path);
}
