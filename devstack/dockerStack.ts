import { spawn, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KesConfig } from '../pipeline/config/config.js';
import { defaultPorts } from '../pipeline/config/config.js';
import { DockerError, PrerequisiteMissingError, UsageError } from '../pipeline/errors.js';
import { setGlobalCompatibility } from '../pipeline/registry/compatibility.js';
import { which } from './prerequisites.js';
import { type ServiceName, type ServiceState, type ServiceStatus, type StackAddresses, serviceNames } from './types.js';

/**
 * Docker mode of `kes stack`: the stack is docker-compose.yml, run under a fixed project name so that status,
 * logs and down find the containers and volumes that up created, whichever directory they are run from.
 */
const PROJECT = 'kes';

/** Host ports published by docker-compose.yml; test/compose.unit.test.ts checks that the file agrees. */
export const composePorts = {
  kafka: 19092,
  registry: 18081,
  redis: 16379,
  clickhouseHttp: 18123,
  clickhouseTcp: 19000,
} as const;

export interface DockerStackOptions {
  config: KesConfig;
  composeFile: string;
  progress?: ((line: string) => void) | undefined;
}

export interface ComposeCommand {
  command: string;
  args: string[];
}

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
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Running docker and compose

interface RunResult {
  /** null when the program could not be started or was killed (timeout). */
  code: number | null;
  stdout: string;
  /** stdout and stderr interleaved, bounded: what an error message shows. */
  output: string;
}

interface RunOptions {
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  onLine?: ((line: string) => void) | undefined;
}

const OUTPUT_LIMIT = 64 * 1024;

function run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    // Our own timer rather than spawn's `timeout`: that one is not cleared when the program is missing (ENOENT),
    // and would hold every `kes` command open for the whole timeout on a machine without docker.
    const timer =
      options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    let stdout = '';
    let output = '';
    const lines = lineSplitter(options.onLine);
    const collect = (toStdout: boolean) => (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      if (toStdout) stdout = keepTail(stdout + text);
      output = keepTail(output + text);
      lines.push(text);
    };
    child.stdout.on('data', collect(true));
    child.stderr.on('data', collect(false));
    // 'error' (e.g. ENOENT) may come without 'close'; resolving twice is harmless.
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, output: `${output}${error.message}\n` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      lines.flush();
      resolve({ code, stdout, output });
    });
  });
}

function keepTail(text: string): string {
  return text.length > OUTPUT_LIMIT ? text.slice(-OUTPUT_LIMIT) : text;
}

function lineSplitter(onLine: ((line: string) => void) | undefined): { push(text: string): void; flush(): void } {
  let pending = '';
  const emit = (line: string) => {
    const trimmed = line.replace(/\r$/, '');
    if (onLine && trimmed.trim() !== '') onLine(trimmed);
  };
  return {
    push(text) {
      const parts = (pending + text).split('\n');
      pending = parts.pop() ?? '';
      for (const part of parts) emit(part);
    },
    flush() {
      emit(pending);
      pending = '';
    },
  };
}

function lastLines(text: string, count = 40): string {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}

function exitsZero(command: string, args: string[]): boolean {
  const result = spawnSync(command, args, { stdio: 'ignore', timeout: 10_000 });
  return result.status === 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Engine and compose discovery

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

function requireCompose(): ComposeCommand {
  const compose = composeCommand();
  if (!compose) {
    throw new PrerequisiteMissingError(
      'docker compose',
      'install the Docker Compose plugin (https://docs.docker.com/compose/install/) or use KES_STACK_MODE=local',
    );
  }
  return compose;
}

async function requireEngine(): Promise<void> {
  if (!(await dockerEngineAnswers())) {
    throw new DockerError('no Docker engine answers `docker info`; start Docker or use KES_STACK_MODE=local');
  }
}

function composeRun(
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
function composeEnv(config: KesConfig): NodeJS.ProcessEnv {
  return { ...process.env, KES_REDIS_APPENDFSYNC: config.KES_REDIS_APPENDFSYNC };
}

// ---------------------------------------------------------------------------------------------------------------
// Container state

interface ContainerState {
  status: string;
  health: string | undefined;
  exitCode: string;
  image: string;
}

/** Found by compose's labels rather than `compose ps`, so status works even without a compose client. */
async function serviceContainer(service: ServiceName): Promise<ContainerState | undefined> {
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

function stateOf(container: ContainerState | undefined): { state: ServiceState; note?: string } {
  if (!container) return { state: 'down', note: 'no container (run kes stack up)' };
  if (container.status === 'running') {
    if (container.health === 'starting') return { state: 'starting' };
    if (container.health === 'unhealthy') return { state: 'down', note: 'running but unhealthy' };
    return { state: 'up' };
  }
  if (container.status === 'created' || container.status === 'restarting') return { state: 'starting' };
  return { state: 'down', note: `container ${container.status}, exit code ${container.exitCode}` };
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
  }
}

function imageTag(image: string): string | undefined {
  const tag = image.slice(image.lastIndexOf(':') + 1);
  return tag && !tag.includes('/') ? tag : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Commands

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

// ---------------------------------------------------------------------------------------------------------------
// Readiness

const POLL_MS = 1_000;

/** For compose clients without `up --wait`: the healthchecks in docker-compose.yml decide, as `--wait` would. */
async function waitHealthy(compose: ComposeCommand, opts: DockerStackOptions, service: ServiceName): Promise<void> {
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
async function waitForRegistry(compose: ComposeCommand, opts: DockerStackOptions, registryUrl: string): Promise<void> {
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

/** Docker mode publishes the ports fixed in docker-compose.yml; a port chosen for the local stack does not apply. */
function warnIgnoredPorts(config: KesConfig, progress: (line: string) => void): void {
  for (const name of Object.keys(defaultPorts) as (keyof typeof defaultPorts)[]) {
    if (config.explicit.has(name) && config[name] !== defaultPorts[name]) {
      progress(`note: ${name}=${config[name]} is ignored in docker mode (docker-compose.yml publishes fixed ports)`);
    }
  }
}
