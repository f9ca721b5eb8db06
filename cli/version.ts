import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findUpwards } from '../devstack/findUpwards.js';

/** kes's own version, from its package.json (found upwards: this file runs from cli/ under vitest and dist/cli/). */
export function kesVersion(): string {
  const path = findUpwards('package.json', dirname(fileURLToPath(import.meta.url)));
  const { version } = JSON.parse(readFileSync(path, 'utf8')) as { version?: unknown };
  return typeof version === 'string' ? version : 'unknown';
}
