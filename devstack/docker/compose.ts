import { spawnSync } from 'node:child_process';
import type { KesConfig } from '../../pipeline/config/config.js';
import { DockerError, PrerequisiteMissingError } from '../../pipeline/errors.js';
import { which } from '../prerequisites.js';
import { exitsZero, type RunResult, run } from './run.js';

/**
 * Finding the Docker engine and a compose client, and running compose on kes's project: a fixed project name, so
 * that status, logs and down find the containers and volumes that up created, whichever directory they run from.
 */
export const PROJECT = 'kes';

export interface DockerStackOptions {
  config: KesConfig;
  composeFile: string;
  progress?: ((line: string) => void) | undefined;
}

export interface ComposeCommand {
  command: string;
  args: string[];
}

/** True when a Docker engine answers. Bounded: a DOCKER_HOST pointing at a dead machine must not hang `kes`. */
export async function dockerEngineAnswers(): Promise<boolean> {
  const result = await run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 5_000 });
  // Old clients print an empty version and still exit 0 when the engine is down.
  return result.code === 0 && result.stdout.trim() !== '';
}

/** The compose plugin when present; else the standalone docker-compose (v2 binary or python 1.x). */
export function composeCommand(): ComposeCommand | undefined {
  if (exitsZero('docker', ['compose', 'version'])) return { command: 'docker', args: ['compose'] };
  if (which('docker-compose')) return { command: 'docker-compose', args: [] };
  return undefined;
}

/** `up --wait` appeared in compose 2.1.1; the python 1.x client lacks it, so kes polls health itself there. */
export function composeSupportsWait(compose: ComposeCommand): boolean {
  const result = spawnSync(compose.command, [...compose.args, 'version', '--short'], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  const match = /(\d+)\.(\d+)\.(\d+)/.exec(result.stdout ?? '');
  if (result.status !== 0 || !match) return false;
  const [major, minor, patch] = match.slice(1).map(Number) as [number, number, number];
  return major > 2 || (major === 2 && (minor > 1 || (minor === 1 && patch >= 1)));
}

export function requireCompose(): ComposeCommand {
  const compose = composeCommand();
  if (!compose) {
    throw new PrerequisiteMissingError(
      'docker compose',
      'install the Docker Compose plugin (https://docs.docker.com/compose/install/) or use KES_STACK_MODE=local',
    );
  }
  return compose;
}

export async function requireEngine(): Promise<void> {
  if (!(await dockerEngineAnswers())) {
    throw new DockerError('no Docker engine answers `docker info`; start Docker or use KES_STACK_MODE=local');
  }
}

export function composeRun(
  compose: ComposeCommand,
  opts: DockerStackOptions,
  args: string[],
  onLine?: (line: string) => void,
): Promise<RunResult> {
  return run(compose.command, [...compose.args, '-p', PROJECT, '-f', opts.composeFile, ...args], {
    env: composeEnv(opts.config),
    onLine,
  });
}

/** docker-compose.yml interpolates these, so that the config decides them in Docker mode as well. */
export function composeEnv(config: KesConfig): NodeJS.ProcessEnv {
  return { ...process.env, KES_REDIS_APPENDFSYNC: config.KES_REDIS_APPENDFSYNC };
}
