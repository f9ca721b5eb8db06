import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * `name` (a relative path) in the nearest directory at or above `from` that has it; `join(from, name)` when none
 * does. Used to find this package's files (docker-compose.yml, bin/kes.js) from a module's own directory, which
 * works from the sources (under vitest) and from dist/.
 */
export function findUpwards(name: string, from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, name))) return join(dir, name);
    if (dirname(dir) === dir) return join(from, name);
  }
}
