import { join } from 'node:path';
import { addressesToEnv } from '../../devstack/types.js';
import { type KesConfig, loadConfig } from '../../pipeline/config/config.js';
import { stack } from './stack.js';

/** The config a lab experiment runs with in a test: the test run's services, the project's schemas and home. */
export function labConfig(): KesConfig {
  return loadConfig({
    env: {},
    overrides: {
      ...addressesToEnv(stack()),
      KES_HOME: join(process.cwd(), '.kes'),
      KES_SCHEMAS_DIR: join(process.cwd(), 'schemas'),
    },
  });
}
