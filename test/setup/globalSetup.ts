import type { TestProject } from 'vitest/node';
import { dockerEngineAnswers } from '../../devstack/dockerStack.js';
import { localUp } from '../../devstack/localStack.js';
import { addressesFromConfig } from '../../devstack/types.js';
import { loadConfig } from '../../pipeline/config/config.js';
import { progressPrinter } from '../../pipeline/output/textOutput.js';
import '../support/stack.js';

/**
 * Integration tests run on real services, found in this order:
 * 1. services named by env (KAFKA_BROKERS, SCHEMA_REGISTRY_URL and REDIS_URL all set): CI or a developer's own;
 * 2. testcontainers, when a Docker engine answers;
 * 3. the local stack (`kes stack up`, idempotent: reused when it already runs, which is how .ci/run does it).
 * Nothing here is ever mocked.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const env = process.env;
  if (env.KAFKA_BROKERS && env.SCHEMA_REGISTRY_URL && env.REDIS_URL) {
    const config = loadConfig({ ignoreStackEnv: true });
    project.provide('stack', addressesFromConfig(config));
    project.provide('stackSource', 'env');
    return undefined;
  }
  if (await dockerEngineAnswers()) {
    const { startContainers } = await import('./containers.js');
    const started = await startContainers();
    project.provide('stack', started.addresses);
    project.provide('stackSource', 'containers');
    return () => started.stop();
  }
  const config = loadConfig({ ignoreStackEnv: true, env: { ...env, KES_STACK_MODE: 'local' } });
  const { addresses } = await localUp({ config, progress: progressPrinter() });
  project.provide('stack', addresses);
  project.provide('stackSource', 'local');
  // The local stack stays up after the run: the next run (and the developer) reuse it; `kes stack down` stops it.
  return undefined;
}
