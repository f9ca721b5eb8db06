import { join } from 'node:path';
import type { KesConfig } from '../../pipeline/config/config.js';
import type { SpawnSpec } from '../processes.js';
import type { LocalServiceName } from '../types.js';

/** The ports of the local stack, resolved once per `up` and remembered in `<KES_HOME>/stack.json`. */
export interface StackPorts {
  kafka: number;
  kafkaController: number;
  registry: number;
  registryManagement: number;
  redis: number;
  clickhouseHttp: number;
  clickhouseTcp: number;
  /** The embedded engine's HTTP facade; 0 lets it pick a free port (its owner file says which). */
  clickhouseEmbedded: number;
  /** PostgreSQL, the lab's reference event store. */
  postgres: number;
  /** Kafka nodes 2..N of a cluster (`kes stack up --kafka-brokers N`); node 1 is `kafka`/`kafkaController`. */
  kafkaExtra?: KafkaNodePorts[];
  /** Replicas and sentinels of a Redis Sentinel group (`kes stack up --redis-replicas N`). */
  redisExtra?: RedisGroupPorts;
}

export interface RedisGroupPorts {
  replicas: number[];
  sentinels: number[];
}

/** The ports that have a setting of their own (KES_*_PORT). */
export type PortKey = Exclude<keyof StackPorts, 'kafkaExtra' | 'redisExtra'>;

export interface KafkaNodePorts {
  broker: number;
  controller: number;
}

export interface StackContext {
  config: KesConfig;
  /** Absolute KES_HOME. */
  home: string;
  ports: StackPorts;
  progress: (line: string) => void;
}

/**
 * One service of the local stack: how to check the machine can run it, how to lay out its files and start it,
 * how to tell it is ready, and where it is. Each lives in its own directory under KES_HOME, and that directory's
 * path appears in its command line: it is the marker by which we recognise our own process.
 */
export interface LocalService {
  readonly name: LocalServiceName;
  readonly portKeys: readonly PortKey[];
  /** What `down` sends first (SIGTERM unless a server needs another signal for a prompt, clean stop). */
  readonly stopSignal?: NodeJS.Signals;
  /**
   * False when an optional service cannot run here (e.g. no ClickHouse server installed). For required ones it
   * throws PrerequisiteMissingError, before anything starts, including for tools only a first download needs.
   */
  available(config: KesConfig): boolean;
  /** Fetch what is missing, write config, format storage; returns how to start the process. */
  prepare(ctx: StackContext): Promise<SpawnSpec>;
  ready(ctx: StackContext): Promise<boolean>;
  /**
   * A process this stack did not start that already provides the service (the live owner of the embedded data
   * path, say): `up` then starts nothing, `status` shows it, `down` leaves it alone.
   */
  externalPid?(ctx: StackContext): Promise<number | undefined>;
  /**
   * A path in the process's command line or working directory that tells it is this stack's (a pid alone may have
   * been reused). Default: the service's directory under KES_HOME.
   */
  processMarker?(ctx: Pick<StackContext, 'home'>): string;
  /** Runs after every `up`, whether it started the process or found it running. */
  afterReady?(ctx: StackContext): Promise<void>;
  address(ctx: StackContext): string;
  version(ctx: StackContext): Promise<string | undefined>;
}

export function serviceDir(ctx: Pick<StackContext, 'home'>, name: LocalServiceName): string {
  return join(ctx.home, name);
}

/** The path that tells the service's process is this stack's (LocalService.processMarker). */
export function processMarker(service: LocalService, ctx: Pick<StackContext, 'home'>): string {
  return service.processMarker?.(ctx) ?? serviceDir(ctx, service.name);
}

export function logPath(ctx: Pick<StackContext, 'home'>, name: LocalServiceName): string {
  return join(ctx.home, name, `${name}.log`);
}

export function pidPath(ctx: Pick<StackContext, 'home'>, name: LocalServiceName): string {
  return join(ctx.home, name, `${name}.pid`);
}

/** GET a URL with a short timeout; resolves to the response or undefined when nothing answers. */
export async function httpGet(url: string, timeoutMs = 2000): Promise<Response | undefined> {
  try {
    return await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch {
    return undefined;
  }
}
