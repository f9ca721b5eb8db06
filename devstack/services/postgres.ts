import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { PrerequisiteMissingError, ServiceStartError } from '../../pipeline/errors.js';
import { which } from '../prerequisites.js';
import { tailFile } from '../processes.js';
import { postgresBinDir } from './postgresBinaries.js';
import { asUser, chosenServerDir, giveTo, serverDir, serverUser } from './postgresServerUser.js';
import { type LocalService, logPath, pidPath, type StackContext, serviceDir } from './service.js';

const HINT = 'install it with apt-get install -y postgresql (the server lands in /usr/lib/postgresql/<version>/bin)';

/** The role initdb creates (a superuser, trusted from 127.0.0.1 and the socket) and the database `up` creates. */
export const POSTGRES_USER = 'kes';
export const POSTGRES_DATABASE = 'kes';

/**
 * PostgreSQL as the lab's reference event store (a message-db-style store, lab/postgres/): its own cluster in
 * `<KES_HOME>/postgres/data`, made by initdb on the first start with trust authentication, on 127.0.0.1 and a unix
 * socket in `<KES_HOME>/postgres/run`. fsync and synchronous_commit are on, stated rather than left to defaults:
 * the lab compares it with kes as "fsync per commit". As root it runs as the `postgres` OS user (postgresServerUser.ts).
 * `down` stops it with SIGINT, Postgres' fast shutdown: sessions are ended and it checkpoints, rather than waiting
 * for every client to leave as SIGTERM (smart shutdown) would.
 */
export const postgresService: LocalService = {
  name: 'postgres',
  portKeys: ['postgres'],
  stopSignal: 'SIGINT',

  available() {
    if (!postgresBinDir()) {
      throw new PrerequisiteMissingError('postgres', HINT, 'was found neither on PATH nor under /usr/lib/postgresql');
    }
    if (serverUser()) {
      if (!which('setpriv'))
        throw new PrerequisiteMissingError('setpriv', 'install it with apt-get install -y util-linux');
    }
    return true;
  },

  async prepare(ctx) {
    const bin = postgresBinDir();
    if (!bin) throw new PrerequisiteMissingError('postgres', HINT);
    const user = serverUser();
    const own = serviceDir(ctx, 'postgres');
    mkdirSync(own, { recursive: true });
    const dir = serverDir(user, ctx.home, own, logPath(ctx, 'postgres'));
    if (dir !== own) ctx.progress(`postgres: ${ctx.home} is closed to the OS user ${user?.name}; data in ${dir}`);
    const data = join(dir, 'data');
    const run = join(dir, 'run');
    mkdirSync(run, { recursive: true });
    if (!existsSync(join(data, 'PG_VERSION'))) {
      // No PG_VERSION: never initialised, or an initdb that died half-way; initdb wants an empty directory.
      rmSync(data, { recursive: true, force: true });
      mkdirSync(data, { mode: 0o700 });
      giveTo(user, [data, run]);
      initdb(ctx, bin, data, user);
    }
    giveTo(user, [data, run]);
    const server = asUser(user, join(bin, 'postgres'), [
      '-D',
      data,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `port=${ctx.ports.postgres}`,
      '-c',
      `unix_socket_directories=${run}`,
      '-c',
      'fsync=on',
      '-c',
      'synchronous_commit=on',
      '-c',
      'full_page_writes=on',
      // The lab's experiments open a pool per writer count; 100 leaves little beside them.
      '-c',
      'max_connections=200',
    ]);
    return { ...server, cwd: dir, logPath: logPath(ctx, 'postgres'), pidPath: pidPath(ctx, 'postgres') };
  },

  // The data directory is in the server's command line (-D), wherever serverDir put it.
  processMarker: (ctx) => chosenServerDir(serviceDir(ctx, 'postgres')),

  async ready(ctx) {
    return (await ask(ctx, 'postgres', async (c) => (await c.query('SELECT 1 AS one')).rows.length === 1)) === true;
  },

  async afterReady(ctx) {
    const created = await ask(ctx, 'postgres', async (c) => {
      const found = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [POSTGRES_DATABASE]);
      if (found.rowCount === 0) await c.query(`CREATE DATABASE ${POSTGRES_DATABASE}`);
      return true;
    });
    if (created !== true) {
      const log = logPath(ctx, 'postgres');
      throw new ServiceStartError('postgres', `could not create database ${POSTGRES_DATABASE}`, log, tailFile(log));
    }
  },

  address(ctx) {
    return postgresUrl(ctx);
  },

  async version(ctx) {
    const version = await ask(ctx, 'postgres', async (c) => {
      const row = (await c.query<{ server_version: string }>('SHOW server_version')).rows[0];
      return row?.server_version;
    });
    // "15.20 (Debian 15.20-0+deb12u1)": the number is the version.
    return version?.split(' ')[0];
  },
};

export function postgresUrl(ctx: Pick<StackContext, 'ports'>, database = POSTGRES_DATABASE): string {
  return `postgres://${POSTGRES_USER}@127.0.0.1:${ctx.ports.postgres}/${database}`;
}

function initdb(ctx: StackContext, bin: string, data: string, user: ReturnType<typeof serverUser>): void {
  const log = logPath(ctx, 'postgres');
  const init = asUser(user, join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    POSTGRES_USER,
    '--auth=trust',
    '--encoding=UTF8',
    '--no-locale',
  ]);
  ctx.progress('postgres: initdb (first start)');
  const result = spawnSync(init.command, init.args, { encoding: 'utf8', timeout: 120_000 });
  appendFileSync(log, `\n--- ${new Date().toISOString()} kes stack up: initdb\n${result.stdout}${result.stderr}`);
  if (result.status !== 0) {
    throw new ServiceStartError(
      'postgres',
      `initdb failed (exit ${result.status ?? result.signal})`,
      log,
      tailFile(log),
    );
  }
}

/** Runs `fn` on a fresh connection; undefined when the server does not answer (yet). */
async function ask<T>(
  ctx: StackContext,
  database: string,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T | undefined> {
  const client = new pg.Client({ connectionString: postgresUrl(ctx, database), connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await fn(client);
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}
