import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, statSync } from 'node:fs';
import { PrerequisiteMissingError, ServiceStartError } from '../../pipeline/errors.js';

/** The OS user the server runs as when kes runs as root: Debian's package creates it. */
export const SERVER_OS_USER = 'postgres';

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
}

/**
 * Postgres refuses to run as root. As root, initdb and the server run as the `postgres` OS user through setpriv,
 * which execs in place (unlike runuser or su, which stay as the parent): the pid we record is the postmaster's own,
 * so `down` signals the server, not a wrapper. As anyone else they run as that user.
 */
export function asUser(
  user: OsUser | undefined,
  command: string,
  args: readonly string[],
): { command: string; args: string[] } {
  if (!user) return { command, args: [...args] };
  return {
    command: 'setpriv',
    args: [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--', command, ...args],
  };
}

/** undefined when not root (the server runs as us); the `postgres` user when root. */
export function serverUser(uid = process.getuid?.() ?? -1): OsUser | undefined {
  if (uid !== 0) return undefined;
  const id = (flag: string) => spawnSync('id', [flag, SERVER_OS_USER], { encoding: 'utf8' });
  const u = id('-u');
  const g = id('-g');
  if (u.status !== 0 || g.status !== 0) {
    throw new PrerequisiteMissingError(
      `OS user ${SERVER_OS_USER}`,
      'install postgresql with apt-get (it creates the user), or run kes as a user other than root',
      'is needed: Postgres refuses to run as root',
    );
  }
  return { name: SERVER_OS_USER, uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/**
 * Lets the server's user reach `target` (its data and socket directories lie below it). The directories kes made
 * (KES_HOME, the service's) get the search bit for others, not the read bit: a home made by mkdtemp is 0700. A
 * directory above them is not ours to open (/root is 0700): that is reported with what to do.
 */
export function letReach(user: OsUser | undefined, ours: readonly string[], target: string, logPath: string): void {
  if (!user) return;
  for (const dir of ours) {
    const mode = statSync(dir).mode & 0o7777;
    if ((mode & 0o001) === 0) chmodSync(dir, mode | 0o001);
  }
  const probe = asUser(user, 'test', ['-x', target]);
  if (spawnSync(probe.command, probe.args).status !== 0) {
    throw new ServiceStartError(
      'postgres',
      `the OS user ${user.name} (Postgres refuses to run as root) cannot reach ${target}: a directory above KES_HOME is closed to other users; give it the search bit (chmod o+x) or use a KES_HOME elsewhere`,
      logPath,
      '',
    );
  }
}

/** Hands the directories the server writes to its user (a no-op when not root). */
export function giveTo(user: OsUser | undefined, paths: readonly string[]): void {
  if (!user) return;
  for (const path of paths) chownSync(path, user.uid, user.gid);
}
