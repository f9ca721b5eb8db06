import { mkdirSync } from 'node:fs';

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { liveOwner, ownerFilePath, readOwner } from '../../pipeline/clickhouse/ownership.js';
import { findUpwards } from '../findUpwards.js';
import { readPid } from '../processes.js';
import { httpGet, type LocalService, logPath, pidPath, type StackContext, serviceDir } from './service.js';

/**
 * The embedded ClickHouse engine (npm `chdb`) as a service of the local stack: `kes clickhouse serve` owns the
 * data path (CLICKHOUSE_EMBEDDED_PATH) and serves it over its HTTP facade, a subset of ClickHouse's HTTP
 * interface. Other processes find it through `<path>/owner.json`, not through stack.env: CLICKHOUSE_URL stays
 * for a real server. Ready when the owner file names a live process whose facade answers /ping.
 */
export const embeddedService: LocalService = {
  name: 'clickhouse-embedded',
  portKeys: ['clickhouseEmbedded'],

  available() {
    try {
      createRequire(import.meta.url).resolve('chdb');
      return true;
    } catch {
      return false;
    }
  },

  async prepare(ctx) {
    const dir = serviceDir(ctx, 'clickhouse-embedded');
    mkdirSync(dir, { recursive: true });
    return {
      command: process.execPath,
      args: [
        kesBin,
        'clickhouse',
        'serve',
        '--path',
        ctx.config.CLICKHOUSE_EMBEDDED_PATH,
        '--port',
        String(ctx.ports.clickhouseEmbedded),
      ],
      // The working directory is the marker by which the stack recognises the process as its own.
      cwd: dir,
      env: { ...process.env, KES_HOME: ctx.home },
      logPath: logPath(ctx, 'clickhouse-embedded'),
      pidPath: pidPath(ctx, 'clickhouse-embedded'),
    };
  },

  async ready(ctx) {
    return (await liveOwner(ctx.config.CLICKHOUSE_EMBEDDED_PATH)) !== undefined;
  },

  async externalPid(ctx) {
    const owner = await liveOwner(ctx.config.CLICKHOUSE_EMBEDDED_PATH);
    const ours = readPid(pidPath(ctx, 'clickhouse-embedded'));
    return owner && owner.pid !== ours ? owner.pid : undefined;
  },

  address(ctx) {
    return embeddedUrl(ctx);
  },

  async version(ctx) {
    const response = await httpGet(`${embeddedUrl(ctx)}/?query=${encodeURIComponent('SELECT version()')}`);
    return response?.ok ? `${(await response.text()).trim()} (chdb)` : undefined;
  },
};

/** The owner's url from its owner file, else the planned one. */
export function embeddedUrl(ctx: Pick<StackContext, 'ports' | 'config'>): string {
  return readOwner(ctx.config.CLICKHOUSE_EMBEDDED_PATH)?.url ?? `http://127.0.0.1:${ctx.ports.clickhouseEmbedded}`;
}

export function embeddedOwnerFile(ctx: Pick<StackContext, 'config'>): string {
  return ownerFilePath(ctx.config.CLICKHOUSE_EMBEDDED_PATH);
}

/** bin/kes.js of this package, found upwards from here (src under vitest, dist/ when built). */
const kesBin = findUpwards(join('bin', 'kes.js'), dirname(fileURLToPath(import.meta.url)));
