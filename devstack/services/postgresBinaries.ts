import { accessSync, constants, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { which } from '../prerequisites.js';

/** Where Debian and Ubuntu install the server: one `bin` per major version, none of them on PATH. */
const DEBIAN_ROOT = '/usr/lib/postgresql';

/** The newest version directory name among `names` ("9.6", "15", "16"…), compared as numbers. */
export function newestVersion(names: readonly string[]): string | undefined {
  const versions = names.filter((n) => /^\d+(\.\d+)?$/.test(n));
  const key = (n: string) => n.split('.').map(Number);
  return versions.sort((a, b) => {
    const [a1 = 0, a2 = 0] = key(a);
    const [b1 = 0, b2 = 0] = key(b);
    return b1 - a1 || b2 - a2;
  })[0];
}

function hasServer(dir: string): boolean {
  try {
    for (const tool of ['postgres', 'initdb']) accessSync(join(dir, tool), constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The directory holding `postgres` and `initdb`: PATH first, else the newest under /usr/lib/postgresql. */
export function postgresBinDir(path = process.env.PATH ?? '', root = DEBIAN_ROOT): string | undefined {
  const onPath = which('postgres', path);
  if (onPath && hasServer(dirname(onPath))) return dirname(onPath);
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return undefined;
  }
  // The newest first, but one without a server (a client-only package) is passed over.
  const byAge = [...names];
  while (byAge.length > 0) {
    const newest = newestVersion(byAge);
    if (newest === undefined) return undefined;
    const bin = join(root, newest, 'bin');
    if (hasServer(bin)) return bin;
    byAge.splice(byAge.indexOf(newest), 1);
  }
  return undefined;
}
