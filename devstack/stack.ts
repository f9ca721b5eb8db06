import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KesConfig } from '../pipeline/config/config.js';
import { stackEnvPath } from '../pipeline/config/config.js';
import { writeEnvFile } from '../pipeline/config/stackEnvFile.js';
import { UsageError } from '../pipeline/errors.js';
import { dockerDown, dockerEngineAnswers, dockerLogs, dockerStatus, dockerUp } from './dockerStack.js';
import { findUpwards } from './findUpwards.js';
import { localDown, localLogs, localStatus, localUp, type UpResult } from './localStack.js';
import { readStackState, writeStackState } from './stackState.js';
import { addressesToEnv, type LocalServiceName, type ServiceStatus } from './types.js';

/**
 * `kes stack`: with a Docker engine it runs docker-compose.yml; without one it runs the same services as local
 * processes. The mode chosen at `up` is remembered, so status/down/logs act on what `up` started.
 */

/** docker-compose.yml at the package root: found upwards from here, which works from src/ and from dist/. */
export const composeFile = findUpwards('docker-compose.yml', dirname(fileURLToPath(import.meta.url)));

async function chooseMode(config: KesConfig): Promise<'local' | 'docker'> {
  if (config.KES_STACK_MODE !== 'auto') return config.KES_STACK_MODE;
  const remembered = readStackState(config.KES_HOME)?.mode;
  if (remembered) return remembered;
  return (await dockerEngineAnswers()) ? 'docker' : 'local';
}

function refuseOnlyInDocker(only: readonly LocalServiceName[] | undefined): void {
  if (only && only.length > 0) {
    throw new UsageError(
      `--only is for the local stack; in Docker mode use \`docker compose -p kes up|stop ${only.join(' ')}\``,
    );
  }
}

export async function stackUp(
  config: KesConfig,
  progress: (line: string) => void,
  only?: readonly LocalServiceName[],
  kafkaNodes?: number,
  redisReplicas?: number,
): Promise<UpResult & { mode: 'local' | 'docker' }> {
  const mode = await chooseMode(config);
  if (mode === 'local') return { mode, ...(await localUp({ config, progress, only, kafkaNodes, redisReplicas })) };
  refuseOnlyInDocker(only);
  if (redisReplicas !== undefined && redisReplicas > 0) {
    throw new UsageError('--redis-replicas is for the local stack (local processes); see docs/scaling.md');
  }
  if (kafkaNodes !== undefined && kafkaNodes !== 1) {
    // The compose file's cluster runs beside the single-node stack under its own profile and ports.
    throw new UsageError(
      '--kafka-brokers is for the local stack; with Docker run `docker compose --profile cluster up -d` (docs/scaling.md)',
    );
  }
  const addresses = await dockerUp({ config, composeFile, progress });
  writeStackState(config.KES_HOME, { mode: 'docker' });
  writeEnvFile(stackEnvPath(config.KES_HOME), addressesToEnv(addresses), 'Written by `kes stack up` (docker compose).');
  const statuses = await dockerStatus({ config, composeFile, progress });
  return { mode, addresses, statuses, moves: [] };
}

export async function stackStatus(config: KesConfig): Promise<ServiceStatus[]> {
  const mode = await chooseMode(config);
  return mode === 'local' ? localStatus(config) : dockerStatus({ config, composeFile, progress: () => undefined });
}

export async function stackDown(
  config: KesConfig,
  progress: (line: string) => void,
  only?: readonly LocalServiceName[],
): Promise<void> {
  const mode = await chooseMode(config);
  if (mode === 'local') return localDown(config, progress, only);
  refuseOnlyInDocker(only);
  await dockerDown({ config, composeFile, progress });
}

export async function stackLogs(config: KesConfig, service: string, lines: number, follow: boolean): Promise<number> {
  const mode = await chooseMode(config);
  if (mode === 'local') return localLogs(config, service, lines, follow);
  await dockerLogs({ config, composeFile, progress: () => undefined, service, lines, follow });
  return 0;
}
