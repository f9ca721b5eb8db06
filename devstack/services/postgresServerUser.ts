import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
 * Whether the server's user can reach `target` (its data and socket directories lie below it). The directories kes
 * made (KES_HOME, the service's) get the search bit for others, not the read bit: a home made by mkdtemp is 0700. A
 * directory above them is not ours to open (/root, a `mktemp -d` checkout): then the answer is no.
 */
export function canReach(user: OsUser | undefined, ours: readonly string[], target: string): boolean {
  if (!user) return true;
  for (const dir of ours) {
    const mode = statSync(dir).mode & 0o7777;
    if ((mode & 0o001) === 0) chmodSync(dir, mode | 0o001);
  }
  const probe = asUser(user, 'test', ['-x', target]);
  return spawnSync(probe.command, probe.args).status === 0;
}

/** Where the server's files go when KES_HOME is closed to its user: one place per home, open to every user. */
export const SHARED_POSTGRES_ROOT = '/var/tmp/kes-postgres';

/**
 * The directory of the server's files: the service's own under KES_HOME, unless kes runs as root below a directory
 * the server's user cannot enter (Postgres refuses root, and kes does not open directories above its home). Then
 * it is SHARED_POSTGRES_ROOT/<hash of KES_HOME>, the same for that home on every `up`, and `<own>/data-dir` names it.
 */
export function serverDir(user: OsUser | undefined, home: string, own: string, logPath: string): string {
  if (canReach(user, [home, own], own)) {
    rmSync(movedTo(own), { force: true });
    return own;
  }
  const dir = join(SHARED_POSTGRES_ROOT, createHash('sha256').update(home).digest('hex').slice(0, 16));
  mkdirSync(dir, { recursive: true });
  for (const path of [SHARED_POSTGRES_ROOT, dir]) chmodSync(path, 0o755);
  writeFileSync(movedTo(own), `${dir}\n`);
  if (!canReach(user, [], dir)) {
    throw new ServiceStartError(
      'postgres',
      `the OS user ${user?.name} (Postgres refuses to run as root) can reach neither ${own} nor ${dir}: give the directories above KES_HOME the search bit (chmod o+x) or use a KES_HOME elsewhere`,
      logPath,
      '',
    );
  }
  return dir;
}

function movedTo(own: string): string {
  return join(own, 'data-dir');
}

/** The directory serverDir chose last for the service directory `own`: its own, or where `data-dir` says. */
export function chosenServerDir(own: string): string {
  return existsSync(movedTo(own)) ? readFileSync(movedTo(own), 'utf8').trim() : own;
}

/** Hands the directories the server writes to its user (a no-op when not root). */
export function giveTo(user: OsUser | undefined, paths: readonly string[]): void {
  if (!user) return;
  for (const path of paths) chownSync(path, user.uid, user.gid);
}
