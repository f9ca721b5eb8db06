import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setGlobalCompatibility } from '../../pipeline/registry/compatibility.js';
import { APICURIO_VERSION, apicurioCached, ensureApicurio, requireDownloadTools } from '../artifacts.js';
import { findJava } from '../prerequisites.js';
import { httpGet, type LocalService, logPath, pidPath, type StackContext, serviceDir } from './service.js';

/**
 * Apicurio Registry 3 (Confluent-compatible API under /apis/ccompat/v7). Schemas are kept in an H2 database
 * file in the service directory, so they survive restarts and the registry does not have to wait for Kafka
 * (kafkasql storage would, and would serialise the two slowest starts of the stack).
 */
export const registryService: LocalService = {
  name: 'registry',
  portKeys: ['registry', 'registryManagement'],

  available(config) {
    findJava(21);
    if (!apicurioCached(config.KES_CACHE_DIR)) requireDownloadTools();
    return true;
  },

  async prepare(ctx) {
    const dir = serviceDir(ctx, 'registry');
    mkdirSync(dir, { recursive: true });
    const home = await ensureApicurio(ctx.config.KES_CACHE_DIR, ctx.progress);
    return {
      command: findJava(21),
      args: [
        '-Xms64m',
        '-Xmx384m',
        '-XX:+UseSerialGC',
        // The registry is looked up once per schema and cached by clients: start time matters more than peak speed.
        '-XX:TieredStopAtLevel=1',
        '-Dquarkus.http.host=127.0.0.1',
        `-Dquarkus.http.port=${ctx.ports.registry}`,
        // The management interface is enabled at build time and would take 0.0.0.0:9000; give it our own port.
        '-Dquarkus.management.host=127.0.0.1',
        `-Dquarkus.management.port=${ctx.ports.registryManagement}`,
        '-Dquarkus.log.level=WARN',
        '-Dquarkus.log.category."io.quarkus".level=INFO',
        '-Dapicurio.storage.kind=sql',
        '-Dapicurio.storage.sql.kind=h2',
        `-Dapicurio.datasource.url=jdbc:h2:file:${join(dir, 'schemas')};DB_CLOSE_ON_EXIT=FALSE`,
        '-Dapicurio.datasource.username=sa',
        '-Dapicurio.datasource.password=sa',
        '-jar',
        join(home, 'quarkus-run.jar'),
      ],
      cwd: dir,
      logPath: logPath(ctx, 'registry'),
      pidPath: pidPath(ctx, 'registry'),
    };
  },

  async ready(ctx) {
    const response = await httpGet(`${registryUrl(ctx)}/subjects`);
    return response?.ok === true;
  },

  async afterReady(ctx) {
    // Apicurio's global default is NONE; Confluent's is BACKWARD. kes relies on the registry refusing
    // incompatible schemas, so set it on every start.
    await setGlobalCompatibility(registryUrl(ctx), ctx.config.KES_REGISTRY_COMPATIBILITY);
  },

  address(ctx) {
    return registryUrl(ctx);
  },

  async version() {
    return `Apicurio ${APICURIO_VERSION}`;
  },
};

export function registryUrl(ctx: Pick<StackContext, 'ports'>): string {
  return `http://127.0.0.1:${ctx.ports.registry}/apis/ccompat/v7`;
}
