import { spawn } from 'node:child_process';
import type { KesConfig } from '../pipeline/config/config.js';
import { defaultPorts } from '../pipeline/config/config.js';
import { DockerError, UsageError } from '../pipeline/errors.js';
import { setGlobalCompatibility } from '../pipeline/registry/compatibility.js';
import {
  composeEnv,
  composeRun,
  composeSupportsWait,
  type DockerStackOptions,
  PROJECT,
  requireCompose,
  requireEngine,
} from './docker/compose.js';
import { imageTag, serviceContainer, stateOf } from './docker/containers.js';
import { waitForRegistry, waitHealthy } from './docker/readiness.js';
import { lastLines } from './docker/run.js';
import { type ServiceName, type ServiceStatus, type StackAddresses, serviceNames } from './types.js';

/**
 * Docker mode of `kes stack`: the stack is docker-compose.yml. This module is the commands (up, status, down,
 * logs) and the addresses; running compose, containers' state and readiness live in devstack/docker/.
 */
export { type ComposeCommand, composeCommand, type DockerStackOptions, dockerEngineAnswers } from './docker/compose.js';

/** Host ports published by docker-compose.yml; test/compose.unit.test.ts checks that the file agrees. */
export const composePorts = {
  kafka: 19092,
  registry: 18081,
  redis: 16379,
  clickhouseHttp: 18123,
  clickhouseTcp: 19000,
  postgres: 15432,
} as const;

export function dockerAddresses(config: KesConfig): StackAddresses {
  const clickhouse = `http://127.0.0.1:${composePorts.clickhouseHttp}`;
  return {
    kafkaBrokers: [`127.0.0.1:${composePorts.kafka}`],
    schemaRegistryUrl: `http://127.0.0.1:${composePorts.registry}/apis/ccompat/v7`,
    redisUrl: `redis://127.0.0.1:${composePorts.redis}`,
    // 25.8 is newer than the read models' minimum, so the same server serves both paths.
    clickhouseUrl: clickhouse,
    clickhouseServerUrl: clickhouse,
    clickhouseEmbeddedPath: config.CLICKHOUSE_EMBEDDED_PATH,
    postgresUrl: `postgres://kes@127.0.0.1:${composePorts.postgres}/kes`,
  };
}

function serviceAddress(service: ServiceName, addresses: StackAddresses): string {
  switch (service) {
    case 'kafka':
      return addresses.kafkaBrokers.join(',');
    case 'registry':
      return addresses.schemaRegistryUrl;
    case 'redis':
      return addresses.redisUrl;
    case 'clickhouse':
      return addresses.clickhouseServerUrl ?? '';
    case 'postgres':
      return addresses.postgresUrl ?? '';
  }
}

export async function dockerUp(
  opts: DockerStackOptions & { progress: (line: string) => void },
): Promise<StackAddresses> {
  const compose = requireCompose();
  await requireEngine();
  warnIgnoredPorts(opts.config, opts.progress);
  const wait = composeSupportsWait(compose);
  const up = await composeRun(compose, opts, wait ? ['up', '-d', '--wait'] : ['up', '-d'], opts.progress);
  if (up.code !== 0) {
    throw new DockerError(`docker compose up failed (exit ${up.code ?? 'killed'}):\n${lastLines(up.output)}`);
  }
  if (!wait) {
    for (const service of serviceNames) await waitHealthy(compose, opts, service);
  }
  const addresses = dockerAddresses(opts.config);
  await waitForRegistry(compose, opts, addresses.schemaRegistryUrl);
  opts.progress(`registry: global compatibility ${opts.config.KES_REGISTRY_COMPATIBILITY}`);
  await setGlobalCompatibility(addresses.schemaRegistryUrl, opts.config.KES_REGISTRY_COMPATIBILITY);
  return addresses;
}

export async function dockerStatus(opts: DockerStackOptions): Promise<ServiceStatus[]> {
  await requireEngine();
  const addresses = dockerAddresses(opts.config);
  return Promise.all(
    serviceNames.map(async (service): Promise<ServiceStatus> => {
      const container = await serviceContainer(service);
      const { state, note } = stateOf(container);
      return {
        service,
        state,
        address: serviceAddress(service, addresses),
        version: container ? imageTag(container.image) : undefined,
        note,
      };
    }),
  );
}

/** Volumes are kept unless asked: they hold the event log, the guard's state and the read models. */
export async function dockerDown(opts: DockerStackOptions & { removeVolumes?: boolean }): Promise<void> {
  const compose = requireCompose();
  await requireEngine();
  const result = await composeRun(compose, opts, ['down', ...(opts.removeVolumes ? ['-v'] : [])], opts.progress);
  if (result.code !== 0) {
    throw new DockerError(`docker compose down failed (exit ${result.code ?? 'killed'}):\n${lastLines(result.output)}`);
  }
}

export async function dockerLogs(
  opts: DockerStackOptions & { service: string; lines: number; follow: boolean },
): Promise<void> {
  if (!(serviceNames as readonly string[]).includes(opts.service)) {
    throw new UsageError(`unknown service ${opts.service}; expected one of ${serviceNames.join(', ')}`, {
      service: opts.service,
    });
  }
  const compose = requireCompose();
  await requireEngine();
  const args = [...compose.args, '-p', PROJECT, '-f', opts.composeFile, 'logs', '--tail', String(opts.lines)];
  if (opts.follow) args.push('--follow');
  args.push(opts.service);
  await new Promise<void>((resolve, reject) => {
    const child = spawn(compose.command, args, { env: composeEnv(opts.config), stdio: 'inherit' });
    child.on('error', (error) => reject(new DockerError(`could not run ${compose.command}: ${error.message}`, error)));
    child.on('close', (code, signal) => {
      // Ctrl-C ends `--follow`: that is the user stopping it, not a failure.
      if (code === 0 || signal === 'SIGINT' || code === 130) resolve();
      else reject(new DockerError(`docker compose logs ${opts.service} failed (exit ${code ?? signal})`));
    });
  });
}

/** Docker mode publishes the ports fixed in docker-compose.yml; a port chosen for the local stack does not apply. */
function warnIgnoredPorts(config: KesConfig, progress: (line: string) => void): void {
  for (const name of Object.keys(defaultPorts) as (keyof typeof defaultPorts)[]) {
    if (config.explicit.has(name) && config[name] !== defaultPorts[name]) {
      progress(`note: ${name}=${config[name]} is ignored in docker mode (docker-compose.yml publishes fixed ports)`);
    }
  }
}
