import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { which } from '../prerequisites.js';
import { httpGet, type LocalService, logPath, pidPath, type StackContext, serviceDir } from './service.js';

/**
 * A ClickHouse server from PATH, when one is installed (Debian's `clickhouse-server`, or the official single
 * `clickhouse` binary). Optional: without it the stack still runs, and read models use the embedded engine.
 * The only server installable on these machines is 18.16, too old for the read models' SQL; it serves the
 * tests of the HTTP client path. A server >= 23.8 becomes CLICKHOUSE_URL as well.
 */
export const clickhouseService: LocalService = {
  name: 'clickhouse',
  portKeys: ['clickhouseHttp', 'clickhouseTcp'],

  available() {
    return serverBinary() !== undefined;
  },

  async prepare(ctx) {
    const binary = serverBinary();
    if (!binary) throw new Error('no ClickHouse server on PATH');
    const dir = serviceDir(ctx, 'clickhouse');
    for (const sub of ['data', 'tmp', 'user_files', 'format_schemas']) mkdirSync(join(dir, sub), { recursive: true });
    writeFileSync(join(dir, 'config.xml'), serverConfig(ctx, dir));
    writeFileSync(join(dir, 'users.xml'), USERS);
    const configArg = `--config-file=${join(dir, 'config.xml')}`;
    return {
      command: binary.command,
      args: [...binary.args, configArg],
      cwd: dir,
      logPath: logPath(ctx, 'clickhouse'),
      pidPath: pidPath(ctx, 'clickhouse'),
    };
  },

  async ready(ctx) {
    const response = await httpGet(`${clickhouseUrl(ctx)}/ping`);
    return response?.ok === true;
  },

  address(ctx) {
    return clickhouseUrl(ctx);
  },

  async version(ctx) {
    const response = await httpGet(`${clickhouseUrl(ctx)}/?query=${encodeURIComponent('SELECT version()')}`);
    return response?.ok ? (await response.text()).trim() : undefined;
  },
};

export function clickhouseUrl(ctx: Pick<StackContext, 'ports'>): string {
  return `http://127.0.0.1:${ctx.ports.clickhouseHttp}`;
}

function serverBinary(): { command: string; args: string[] } | undefined {
  const debian = which('clickhouse-server');
  if (debian) return { command: debian, args: [] };
  const single = which('clickhouse');
  if (single) return { command: single, args: ['server'] };
  return undefined;
}

// `<yandex>` is the root element 18.x requires; current servers still accept it.
function serverConfig(ctx: StackContext, dir: string): string {
  return `<?xml version="1.0"?>
<!-- Written by kes stack up; rewritten on every start. -->
<yandex>
  <logger>
    <level>warning</level>
    <console>1</console>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${ctx.ports.clickhouseHttp}</http_port>
  <tcp_port>${ctx.ports.clickhouseTcp}</tcp_port>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>268435456</mark_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
  <timezone>UTC</timezone>
</yandex>
`;
}

const USERS = `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`;
