import { setTimeout as sleep } from 'node:timers/promises';
import { DockerError } from '../../pipeline/errors.js';
import type { ServiceName } from '../types.js';
import { type ComposeCommand, composeRun, type DockerStackOptions } from './compose.js';
import { serviceContainer, stateOf } from './containers.js';
import { lastLines } from './run.js';

/** Waiting until the compose services answer, for clients without `up --wait` and for the published ports. */

const POLL_MS = 1_000;

/** For compose clients without `up --wait`: the healthchecks in docker-compose.yml decide, as `--wait` would. */
export async function waitHealthy(
  compose: ComposeCommand,
  opts: DockerStackOptions,
  service: ServiceName,
): Promise<void> {
  const deadline = Date.now() + opts.config.KES_START_TIMEOUT_S * 1000;
  for (;;) {
    const container = await serviceContainer(service);
    const { state, note } = stateOf(container);
    if (state === 'up') {
      opts.progress?.(`${service}: healthy`);
      return;
    }
    if (state !== 'starting' || Date.now() > deadline) {
      const reason = state === 'starting' ? `not healthy after ${opts.config.KES_START_TIMEOUT_S}s` : (note ?? state);
      throw await serviceFailure(compose, opts, service, reason);
    }
    await sleep(POLL_MS);
  }
}

/** Healthy inside the container is not yet reachable through the published port; the PUT needs the latter. */
export async function waitForRegistry(
  compose: ComposeCommand,
  opts: DockerStackOptions,
  registryUrl: string,
): Promise<void> {
  const deadline = Date.now() + opts.config.KES_START_TIMEOUT_S * 1000;
  for (;;) {
    try {
      const response = await fetch(`${registryUrl}/subjects`, { signal: AbortSignal.timeout(5_000) });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return;
    } catch {
      // not reachable yet
    }
    if (Date.now() > deadline) {
      throw await serviceFailure(compose, opts, 'registry', `${registryUrl} did not answer`);
    }
    await sleep(POLL_MS);
  }
}

async function serviceFailure(
  compose: ComposeCommand,
  opts: DockerStackOptions,
  service: ServiceName,
  reason: string,
): Promise<DockerError> {
  const logs = await composeRun(compose, opts, ['logs', '--no-color', '--tail', '30', service]);
  return new DockerError(`${service} failed to start: ${reason}\n${lastLines(logs.output, 30)}`);
}
