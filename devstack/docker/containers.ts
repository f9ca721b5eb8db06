import { DockerError } from '../../pipeline/errors.js';
import type { ServiceName, ServiceState } from '../types.js';
import { PROJECT } from './compose.js';
import { lastLines, run } from './run.js';

/** A compose service's container and what its state means for `kes stack status`. */

export interface ContainerState {
  status: string;
  health: string | undefined;
  exitCode: string;
  image: string;
}

/** Found by compose's labels rather than `compose ps`, so status works even without a compose client. */
export async function serviceContainer(service: ServiceName): Promise<ContainerState | undefined> {
  const ps = await run('docker', [
    'ps',
    '--all',
    '--quiet',
    '--filter',
    `label=com.docker.compose.project=${PROJECT}`,
    '--filter',
    `label=com.docker.compose.service=${service}`,
  ]);
  if (ps.code !== 0) throw new DockerError(`docker ps failed:\n${lastLines(ps.output)}`);
  const id = ps.stdout.split('\n')[0]?.trim();
  if (!id) return undefined;
  const format =
    '{{.State.Status}}|{{if .State.Health}}{{.State.Health.Status}}{{end}}|{{.State.ExitCode}}|{{.Config.Image}}';
  const inspect = await run('docker', ['inspect', '--format', format, id]);
  // The container can disappear between ps and inspect (a concurrent down).
  if (inspect.code !== 0) return undefined;
  const [status = '', health = '', exitCode = '', image = ''] = inspect.stdout.trim().split('|');
  return { status, health: health || undefined, exitCode, image };
}

export function stateOf(container: ContainerState | undefined): { state: ServiceState; note?: string } {
  if (!container) return { state: 'down', note: 'no container (run kes stack up)' };
  if (container.status === 'running') {
    if (container.health === 'starting') return { state: 'starting' };
    if (container.health === 'unhealthy') return { state: 'down', note: 'running but unhealthy' };
    return { state: 'up' };
  }
  if (container.status === 'created' || container.status === 'restarting') return { state: 'starting' };
  return { state: 'down', note: `container ${container.status}, exit code ${container.exitCode}` };
}

export function imageTag(image: string): string | undefined {
  const tag = image.slice(image.lastIndexOf(':') + 1);
  return tag && !tag.includes('/') ? tag : undefined;
}
