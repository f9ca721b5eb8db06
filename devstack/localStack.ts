import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KesConfig } from '../pipeline/config/config.js';
import { stackEnvPath } from '../pipeline/config/config.js';
import { writeEnvFile } from '../pipeline/config/stackEnvFile.js';
import { ServiceStartError, UsageError } from '../pipeline/errors.js';
import { type PortDecision, planKafkaExtra, planPorts, portsOf } from './portPlan.js';
import { isOurProcess, readPid, spawnDetached, stopProcess, tailFile } from './processes.js';
import { clickhouseService } from './services/clickhouse.js';
import { embeddedOwnerFile, embeddedService } from './services/embedded.js';
import { kafkaNodeService, replicationFor } from './services/kafka.js';
import { postgresService } from './services/postgres.js';
import { redisService } from './services/redis.js';
import {
  isRedisGroupNode,
  planRedisGroup,
  redisGroupServices,
  STACK_MASTER_NAME,
  sentinelAddresses,
} from './services/redisGroup.js';
import { registryService } from './services/registry.js';
import {
  type LocalService,
  logPath,
  type PortKey,
  pidPath,
  processMarker,
  type StackContext,
  type StackPorts,
  serviceDir,
} from './services/service.js';
import { withStackLock } from './stackLock.js';
import { readStackState, writeStackState } from './stackState.js';
import {
  addressesToEnv,
  isKafkaNode,
  isModernClickHouse,
  type LocalServiceName,
  type ServiceStatus,
  type StackAddresses,
} from './types.js';

/**
 * In start order of importance; they start in parallel, none depends on another. Kafka is one node, or `nodes`
 * nodes of one cluster (`kes stack up --kafka-brokers N`), each a service of its own.
 */
export function localServicesFor(kafkaNodes: number, redisReplicas = 0): LocalService[] {
  const kafka = Array.from({ length: kafkaNodes }, (_, i) => kafkaNodeService(i + 1, kafkaNodes));
  // With replicas, Redis is a Sentinel group: the first master (`redis`), its replicas and three sentinels.
  const redis = [redisService, ...redisGroupServices(redisReplicas)];
  return [...kafka, registryService, ...redis, clickhouseService, postgresService, embeddedService];
}

/** The single-node stack's services. */
export const localServices: readonly LocalService[] = localServicesFor(1);

export interface UpOptions {
  config: KesConfig;
  progress: (line: string) => void;
  /** Start only these (default: all). `kafka` means every Kafka node. */
  only?: readonly LocalServiceName[] | undefined;
  /** Kafka nodes (`--kafka-brokers`); default what this home's stack was started with, else 1. */
  kafkaNodes?: number | undefined;
  /** Redis replicas (`--redis-replicas`; > 0 adds three sentinels); default what this home ran with, else 0. */
  redisReplicas?: number | undefined;
}

export interface UpResult {
  addresses: StackAddresses;
  statuses: ServiceStatus[];
  moves: PortDecision[];
}

function selected(services: readonly LocalService[], only: readonly LocalServiceName[] | undefined): LocalService[] {
  if (!only || only.length === 0) return [...services];
  for (const name of only) {
    if (!services.some((s) => s.name === name)) {
      throw new UsageError(`unknown service '${name}'; valid: ${services.map((s) => s.name).join(', ')}`);
    }
  }
  return services.filter(
    (s) =>
      only.includes(s.name) ||
      (only.includes('kafka') && isKafkaNode(s.name)) ||
      (only.includes('redis') && isRedisGroupNode(s.name)),
  );
}

/** Kafka nodes of the stack in this home: as remembered; a home from before clusters has one. */
function rememberedNodes(home: string): number {
  return readStackState(home)?.kafkaNodes ?? 1;
}

/** Redis replicas of the stack in this home (a Sentinel group when > 0); remembered like the Kafka size. */
function rememberedReplicas(home: string): number {
  return readStackState(home)?.redisReplicas ?? 0;
}

/**
 * The size asked for, checked against the data already in this home: a node's storage is formatted for one quorum,
 * so a one-node stack cannot become a cluster in place (nor the reverse); another KES_HOME can.
 */
function chooseNodes(home: string, asked: number | undefined): number {
  const state = readStackState(home);
  const before =
    state?.kafkaNodes ?? (existsSync(join(serviceDir({ home }, 'kafka'), 'data', 'meta.properties')) ? 1 : undefined);
  const nodes = asked ?? before ?? 1;
  if (before !== undefined && nodes !== before) {
    throw new UsageError(
      `${home} holds a ${before}-node Kafka; it cannot become ${nodes} nodes in place: use another KES_HOME (--home), or remove ${home} after \`kes stack down\``,
    );
  }
  return nodes;
}

function runningPid(home: string, service: LocalService): number | undefined {
  const pid = readPid(pidPath({ home }, service.name));
  return pid !== undefined && isOurProcess(pid, processMarker(service, { home })) ? pid : undefined;
}

/**
 * Start what is not running, leave what runs alone, wait until every service answers, and write the
 * addresses to `<KES_HOME>/stack.env`. Idempotent: after a crash of one service it restarts just that one,
 * on the same ports and over the same data.
 */
export async function localUp(options: UpOptions): Promise<UpResult> {
  mkdirSync(options.config.KES_HOME, { recursive: true });
  return withStackLock(options.config.KES_HOME, options.progress, () => upLocked(options));
}

async function upLocked(options: UpOptions): Promise<UpResult> {
  const { config, progress } = options;
  const home = config.KES_HOME;
  const nodes = chooseNodes(home, options.kafkaNodes);
  const replicas = options.redisReplicas ?? readStackState(home)?.redisReplicas ?? config.KES_REDIS_REPLICAS;
  const all = localServicesFor(nodes, replicas);
  const services = selected(all, options.only);

  // Every missing prerequisite is reported before anything starts or downloads.
  const runnable = services.filter((s) => s.available(config));

  const heldByUs = new Set<PortKey>();
  for (const service of all) {
    if (runningPid(home, service) !== undefined) for (const key of service.portKeys) heldByUs.add(key);
  }
  const state = readStackState(home);
  const decisions = await planPorts(config, state?.ports, heldByUs);
  const ports = portsOf(decisions);
  if (nodes > 1) ports.kafkaExtra = await planKafkaExtra(nodes, ports, state?.ports?.kafkaExtra);
  const redisGroup = await planRedisGroup(replicas, ports, state?.ports?.redisExtra);
  if (redisGroup) ports.redisExtra = redisGroup;
  writeStackState(home, {
    mode: 'local',
    ports,
    ...(nodes > 1 ? { kafkaNodes: nodes } : {}),
    ...(replicas > 0 ? { redisReplicas: replicas } : {}),
  });
  const ctx: StackContext = { config, home, ports, progress };
  const selectedKeys = new Set(runnable.flatMap((s) => s.portKeys));
  const moves = decisions.filter((d) => d.movedFrom && selectedKeys.has(d.key));
  for (const move of moves) {
    progress(
      `port ${move.movedFrom?.port} is in use${move.movedFrom?.holder ? ` by ${move.movedFrom.holder}` : ''}; ${move.key} uses ${move.port}`,
    );
  }

  const started = await Promise.allSettled(runnable.map((service) => startOne(ctx, service)));
  const failures = started.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  // The first failure is thrown with its log; any others are named so none goes unnoticed.
  for (const other of failures.slice(1))
    progress(`also failed: ${other instanceof Error ? other.message : String(other)}`);
  if (failures.length > 0) throw failures[0];

  const statuses = await localStatus(config, ports, nodes);
  const addresses = await addressesOf(ctx, statuses, nodes);
  // Topics kes creates follow the cluster's size: the guard and the benches read KES_TOPIC_REPLICATION from here.
  const replication = nodes > 1 ? { KES_TOPIC_REPLICATION: String(replicationFor(nodes).factor) } : {};
  // Every kes client then asks these sentinels for the master (pipeline/redis/redisClient).
  const sentinels = sentinelAddresses(ports);
  const redisGroupEnv = sentinels ? { KES_REDIS_SENTINELS: sentinels, KES_REDIS_MASTER_NAME: STACK_MASTER_NAME } : {};
  writeEnvFile(
    stackEnvPath(home),
    { ...addressesToEnv(addresses), ...replication, ...redisGroupEnv },
    'Written by `kes stack up` (local processes).',
  );
  return { addresses, statuses, moves };
}

async function startOne(ctx: StackContext, service: LocalService): Promise<void> {
  const log = logPath(ctx, service.name);
  let pid = runningPid(ctx.home, service);
  const external = pid === undefined ? await service.externalPid?.(ctx) : undefined;
  if (external !== undefined) {
    // Provided by a process this stack did not start (an owner that took the data path over): leave it be.
    await service.afterReady?.(ctx);
    ctx.progress(`${service.name}: served by pid ${external}, not started by this stack, at ${service.address(ctx)}`);
    return;
  }
  if (pid === undefined) {
    const spec = await service.prepare(ctx);
    ctx.progress(`${service.name}: starting`);
    pid = spawnDetached(spec);
  } else {
    ctx.progress(`${service.name}: already running (pid ${pid})`);
  }
  const marker = processMarker(service, ctx);
  const deadline = Date.now() + ctx.config.KES_START_TIMEOUT_S * 1000;
  const began = Date.now();
  for (;;) {
    if (await service.ready(ctx)) break;
    if (!isOurProcess(pid, marker)) {
      throw new ServiceStartError(service.name, 'the process exited', log, tailFile(log));
    }
    if (Date.now() > deadline) {
      throw new ServiceStartError(
        service.name,
        `not ready after ${ctx.config.KES_START_TIMEOUT_S}s (KES_START_TIMEOUT_S)`,
        log,
        tailFile(log),
      );
    }
    await sleep(250);
  }
  await service.afterReady?.(ctx);
  ctx.progress(`${service.name}: ready at ${service.address(ctx)} (${((Date.now() - began) / 1000).toFixed(1)}s)`);
}

async function addressesOf(ctx: StackContext, statuses: ServiceStatus[], nodes: number): Promise<StackAddresses> {
  const clickhouse = statuses.find((s) => s.service === 'clickhouse');
  const serverUrl = clickhouse?.state === 'up' ? clickhouse.address : undefined;
  return {
    kafkaBrokers: Array.from({ length: nodes }, (_, i) => kafkaNodeService(i + 1, nodes).address(ctx)),
    schemaRegistryUrl: registryService.address(ctx),
    redisUrl: redisService.address(ctx),
    clickhouseServerUrl: serverUrl,
    // An old server serves the HTTP-path tests only; the read models then stay on the embedded engine.
    clickhouseUrl: serverUrl && clickhouse?.version && isModernClickHouse(clickhouse.version) ? serverUrl : undefined,
    clickhouseEmbeddedPath: ctx.config.CLICKHOUSE_EMBEDDED_PATH,
    postgresUrl: postgresService.address(ctx),
  };
}

export async function localStatus(
  config: KesConfig,
  knownPorts?: StackPorts,
  kafkaNodes?: number,
): Promise<ServiceStatus[]> {
  const home = config.KES_HOME;
  const remembered = knownPorts ?? readStackState(home)?.ports;
  const rows: ServiceStatus[] = [];
  for (const service of localServicesFor(kafkaNodes ?? rememberedNodes(home), rememberedReplicas(home))) {
    if (!remembered) {
      rows.push({ service: service.name, state: 'down', address: '-', note: 'never started here' });
      continue;
    }
    // A stack.json from before a service existed lacks its port: the default stands in.
    const ports: StackPorts = {
      ...remembered,
      clickhouseEmbedded: remembered.clickhouseEmbedded ?? config.KES_CLICKHOUSE_EMBEDDED_PORT,
      postgres: remembered.postgres ?? config.KES_POSTGRES_PORT,
    };
    const ctx: StackContext = { config, home, ports, progress: () => undefined };
    const pid = runningPid(home, service) ?? (await service.externalPid?.(ctx));
    const external = pid !== undefined && runningPid(home, service) === undefined;
    const address = service.address(ctx);
    if (pid === undefined) {
      const installed = service.available(config);
      rows.push({
        service: service.name,
        state: installed ? 'down' : 'absent',
        address,
        note: installed ? undefined : absentNote(service.name),
      });
      continue;
    }
    const ready = await service.ready(ctx);
    rows.push({
      service: service.name,
      state: ready ? 'up' : 'starting',
      address,
      pid,
      version: ready ? await service.version(ctx) : undefined,
      note: ready ? upNote(service.name, config, ctx, external) : undefined,
    });
  }
  return rows;
}

function absentNote(name: LocalServiceName): string | undefined {
  if (name === 'clickhouse') return 'no ClickHouse server on PATH (read models use the embedded engine)';
  if (name === 'clickhouse-embedded') return 'npm package chdb not installed';
  return undefined;
}

function upNote(name: LocalServiceName, config: KesConfig, ctx: StackContext, external: boolean): string | undefined {
  if (name === 'clickhouse') return 'server for the HTTP client path; read models need >= 23.8';
  if (name !== 'clickhouse-embedded') return undefined;
  const role = config.CLICKHOUSE_URL
    ? 'CLICKHOUSE_URL is set, so read models use the server'
    : `read-model engine, data ${config.CLICKHOUSE_EMBEDDED_PATH}`;
  const who = external ? '; owner not started by this stack (down leaves it)' : '';
  return `${role}; found through ${embeddedOwnerFile(ctx)}${who}`;
}

export async function localDown(
  config: KesConfig,
  progress: (line: string) => void,
  only?: readonly LocalServiceName[],
): Promise<void> {
  const home = config.KES_HOME;
  if (!existsSync(home)) {
    progress(`nothing to stop: ${home} does not exist`);
    return;
  }
  await withStackLock(home, progress, async () => {
    const group = localServicesFor(rememberedNodes(home), rememberedReplicas(home));
    const running = selected(group, only).flatMap((service) => {
      const pid = runningPid(home, service);
      return pid === undefined ? [] : [{ service, pid }];
    });
    if (running.length === 0) progress('nothing to stop: no service of this stack is running');
    await Promise.all(
      running.map(async ({ service, pid }) => {
        progress(`${service.name}: stopping pid ${pid}`);
        await stopProcess(pid, processMarker(service, { home }), undefined, service.stopSignal);
        rmSync(pidPath({ home }, service.name), { force: true });
        progress(`${service.name}: stopped`);
      }),
    );
  });
}

export function localLogs(config: KesConfig, service: string, lines: number, follow: boolean): Promise<number> {
  const services = localServicesFor(rememberedNodes(config.KES_HOME), rememberedReplicas(config.KES_HOME));
  const found = services.find((s) => s.name === service);
  if (!found) {
    throw new UsageError(`unknown service '${service}'; valid: ${services.map((s) => s.name).join(', ')}`);
  }
  const path = logPath({ home: config.KES_HOME }, found.name);
  if (!existsSync(path)) throw new UsageError(`${service} has no log yet at ${path} (has it been started here?)`);
  if (!follow) {
    process.stdout.write(`${tailFile(path, lines)}\n`);
    return Promise.resolve(0);
  }
  return new Promise((resolvePromise) => {
    const child = spawn('tail', ['-n', String(lines), '-F', path], { stdio: 'inherit' });
    child.on('exit', (code) => resolvePromise(code ?? 0));
  });
}
