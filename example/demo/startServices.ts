import type { KesConfig } from '../../pipeline/config/config.js';
import { BANK_MODULES_FILE } from '../modules.js';
import type { DemoKeys } from './demoKeys.js';
import type { Say } from './demoOptions.js';
import type { DemoService, DemoServices } from './demoServices.js';

export interface StartedServices {
  /** guard-1 first. */
  guards: DemoService[];
  projector: DemoService;
}

/**
 * Starts the demo's `kes` processes in order: guard-1, the projector, the transfers process manager (pointed at
 * guard-1, with its own key), then the other guards; says where each listens, and which ports moved.
 */
export async function startServices(
  config: KesConfig,
  guardCount: number,
  services: DemoServices,
  keys: DemoKeys,
  say: Say,
): Promise<StartedServices> {
  const shared = { KES_HOME: config.KES_HOME, KES_LOG_LEVEL: 'warn' };
  const guardSpec = (port: number) => ({
    args: ['guard', '--modules', BANK_MODULES_FILE],
    portSetting: 'KES_GUARD_PORT',
    defaultPort: port,
    env: { ...shared, KES_API_KEYS: `@${keys.file}` },
    waitReady: true,
  });
  const guard = await services.start({ name: 'guard-1', ...guardSpec(config.KES_GUARD_PORT) });
  say(`guard-1: ${guard.url} (pid ${guard.pid})`);
  const projector = await services.start({
    name: 'projector',
    args: ['project', '--projections', BANK_MODULES_FILE],
    portSetting: 'KES_PROJECTOR_PORT',
    defaultPort: config.KES_PROJECTOR_PORT,
    env: shared,
    waitReady: true,
  });
  say(`projector: ${projector.url} (pid ${projector.pid})`);
  const transfers = await services.start({
    name: 'transfers',
    args: ['transfers'],
    portSetting: 'KES_TRANSFERS_PORT',
    defaultPort: config.KES_TRANSFERS_PORT,
    env: { ...shared, KES_GUARD_URL: guard.url, KES_TRANSFERS_API_KEY: keys.transfers },
    waitReady: false,
  });
  say(`transfers process manager: ${transfers.url} (pid ${transfers.pid})`);
  const guards = [guard];
  for (let i = 2; i <= guardCount; i++) {
    const more = await services.start({ name: `guard-${i}`, ...guardSpec(config.KES_GUARD_PORT + 10 + i) });
    say(`guard-${i}: ${more.url} (pid ${more.pid})`);
    guards.push(more);
  }
  for (const line of services.moved) say(line);
  return { guards, projector };
}
