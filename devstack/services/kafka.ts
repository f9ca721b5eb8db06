import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ServiceStartError } from '../../pipeline/errors.js';
import { ensureKafkaJars, KAFKA_VERSION, kafkaJarsCached, requireDownloadTools } from '../artifacts.js';
import { findJava } from '../prerequisites.js';
import type { SpawnSpec } from '../processes.js';
import type { KafkaNodeName } from '../types.js';
import { newKafkaClusterId } from './kafkaClusterId.js';
import {
  type KafkaNodePorts,
  type LocalService,
  logPath,
  pidPath,
  type StackContext,
  type StackPorts,
  serviceDir,
} from './service.js';

/**
 * Apache Kafka in KRaft combined mode (broker + controller in one JVM). One node by default; `kes stack up
 * --kafka-brokers N` runs N such nodes, each a service of its own (`kafka`, `kafka-2`, `kafka-3`, …) with its own
 * directory, pid and log, so that one node can be killed and brought back alone. All nodes vote in the controller
 * quorum: with three, any one may die and the cluster keeps a quorum and an in-sync majority.
 */
export function kafkaNodeService(node: number, nodes: number): LocalService {
  const name = kafkaNodeName(node);
  return {
    name,
    // Node 1 keeps the single-node stack's port settings; the others' ports are planned beside them.
    portKeys: node === 1 ? ['kafka', 'kafkaController'] : [],

    available(config) {
      findJava(17);
      if (!kafkaJarsCached(config.KES_CACHE_DIR)) requireDownloadTools();
      return true;
    },

    async prepare(ctx) {
      const dir = serviceDir(ctx, name);
      const dataDir = join(dir, 'data');
      mkdirSync(dataDir, { recursive: true });
      const libs = await ensureKafkaJars(ctx.config.KES_CACHE_DIR, ctx.progress);
      const java = findJava(17);
      const properties = join(dir, 'server.properties');
      writeFileSync(properties, serverProperties(ctx, node, nodes, dataDir));
      writeFileSync(join(dir, 'log4j2.properties'), LOG4J2);
      if (!existsSync(join(dataDir, 'meta.properties'))) {
        ctx.progress(`${name}: formatting storage`);
        // Every node of a cluster is formatted with the same cluster id; one node keeps today's random one.
        await formatStorage(java, libs, properties, nodes > 1 ? clusterIdOf(ctx.home) : undefined);
      }
      // Three JVMs share 2 cores and the rest of the stack: a cluster node gets a smaller heap than a lone broker.
      const heap = nodes > 1 ? ['-Xms128m', '-Xmx512m'] : ['-Xms256m', '-Xmx768m'];
      const spec: SpawnSpec = {
        command: java,
        args: [
          ...heap,
          '-XX:+UseG1GC',
          '-XX:MaxGCPauseMillis=20',
          '-Djava.awt.headless=true',
          `-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`,
          '-cp',
          `${libs}/*`,
          'kafka.Kafka',
          properties,
        ],
        logPath: logPath(ctx, name),
        pidPath: pidPath(ctx, name),
        cwd: dir,
      };
      return spec;
    },

    async ready(ctx) {
      const kafka = new Kafka({
        brokers: [addressOf(ctx, node)],
        clientId: 'kes-stack-probe',
        logLevel: logLevel.NOTHING,
        connectionTimeout: 1000,
        requestTimeout: 2000,
        retry: { retries: 0 },
      });
      const admin = kafka.admin();
      try {
        await admin.connect();
        // A metadata request that lists this node: it has registered with the controller quorum.
        const cluster = await admin.describeCluster();
        return cluster.brokers.some((b) => b.nodeId === node);
      } catch {
        return false;
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    },

    address(ctx) {
      return addressOf(ctx, node);
    },

    async version() {
      return KAFKA_VERSION;
    },
  };
}

/** The single-node stack's Kafka, as it always was. */
export const kafkaService: LocalService = kafkaNodeService(1, 1);

export function kafkaNodeName(node: number): KafkaNodeName {
  return node === 1 ? 'kafka' : `kafka-${node}`;
}

/** Ports of node n (1-based): node 1 has the stack's own settings, the others those planned for them. */
export function kafkaNodePorts(ports: StackPorts, node: number): KafkaNodePorts {
  if (node === 1) return { broker: ports.kafka, controller: ports.kafkaController };
  const extra = ports.kafkaExtra?.[node - 2];
  if (!extra)
    throw new ServiceStartError(kafkaNodeName(node), 'no ports planned for this node (stack.json)', undefined, '');
  return extra;
}

function addressOf(ctx: StackContext, node: number): string {
  return `127.0.0.1:${kafkaNodePorts(ctx.ports, node).broker}`;
}

/** Replication the cluster's size allows: 3 copies from three nodes up, one on a lone broker. */
export function replicationFor(nodes: number): { factor: number; minIsr: number } {
  const factor = Math.min(3, nodes);
  return { factor, minIsr: factor > 1 ? factor - 1 : 1 };
}

/** The cluster id every node is formatted with, written once beside the nodes' directories. */
function clusterIdOf(home: string): string {
  const path = join(home, 'kafka-cluster.id');
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const id = newKafkaClusterId();
  writeFileSync(path, `${id}\n`);
  return id;
}

function serverProperties(ctx: StackContext, node: number, nodes: number, dataDir: string): string {
  const { broker, controller } = kafkaNodePorts(ctx.ports, node);
  const voters = Array.from(
    { length: nodes },
    (_, i) => `${i + 1}@127.0.0.1:${kafkaNodePorts(ctx.ports, i + 1).controller}`,
  );
  const { factor, minIsr } = replicationFor(nodes);
  return `# Written by kes stack up; rewritten on every start.
process.roles=broker,controller
node.id=${node}
controller.quorum.voters=${voters.join(',')}
listeners=PLAINTEXT://127.0.0.1:${broker},CONTROLLER://127.0.0.1:${controller}
advertised.listeners=PLAINTEXT://127.0.0.1:${broker}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=${dataDir}
num.partitions=4
auto.create.topics.enable=false
# Topics created without a replication factor get the cluster's; with three nodes, an acknowledged write (acks=all)
# is on two of them at least, so one node may die without losing it.
default.replication.factor=${factor}
min.insync.replicas=${minIsr}
offsets.topic.replication.factor=${factor}
# Few partitions for the internal topics: the first group join and first transaction are much faster on 2 cores.
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=${factor}
transaction.state.log.min.isr=${minIsr}
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=${factor}
share.coordinator.state.topic.min.isr=${minIsr}
group.initial.rebalance.delay.ms=0
${nodes > 1 ? CLUSTER_FAILURE_DETECTION : ''}# A zombie guard must be fenced, not timed out: keep the broker's cap on transaction timeouts generous.
transaction.max.timeout.ms=900000
log.retention.hours=-1
`;
}

/**
 * How soon the controller fences a node that stopped heartbeating, which is when its partitions get new leaders and
 * it leaves the in-sync replicas (until then acks=all writes wait for it). Kafka's default session is 9 s; 4 s halves
 * the stall after a kill -9 (docs/scaling.md) and is still 4 missed heartbeats, far above a 512 MB heap's GC pauses.
 */
const CLUSTER_FAILURE_DETECTION = `broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=4000
`;

const LOG4J2 = `status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = WARN
logger.state.name = state.change.logger
logger.state.level = WARN
logger.coordinator.name = org.apache.kafka.coordinator
logger.coordinator.level = WARN
logger.raft.name = org.apache.kafka.raft
logger.raft.level = WARN
logger.controller.name = org.apache.kafka.controller
logger.controller.level = WARN
logger.storage.name = org.apache.kafka.storage
logger.storage.level = WARN
`;

/** Asynchronous, so that the nodes of a cluster format at once: each start of the tool is a JVM. */
async function formatStorage(
  java: string,
  libs: string,
  properties: string,
  sharedId: string | undefined,
): Promise<void> {
  const cp = `${libs}/*`;
  const clusterId = sharedId ?? randomClusterId(java, cp);
  // -g: a directory that is already formatted is fine (a second `up` racing this one).
  const result = await runTool(java, [
    '-cp',
    cp,
    'kafka.tools.StorageTool',
    'format',
    // One argument, so that an id starting with '-' (a kafka-cluster.id written before newKafkaClusterId) is a value.
    `--cluster-id=${clusterId}`,
    '-c',
    properties,
    '-g',
  ]);
  if (result.status !== 0) {
    throw new ServiceStartError('kafka', 'StorageTool format failed', undefined, result.output);
  }
}

function runTool(command: string, args: string[]): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output += chunk.toString('utf8');
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (error) => resolve({ status: null, output: `${output}${error.message}` }));
    child.on('close', (status) => resolve({ status, output }));
  });
}

function randomClusterId(java: string, cp: string): string {
  const id = spawnSync(java, ['-cp', cp, 'kafka.tools.StorageTool', 'random-uuid'], { encoding: 'utf8' });
  const clusterId = id.stdout
    .split('\n')
    .map((l) => l.trim())
    .find((l) => /^[A-Za-z0-9_-]{22}$/.test(l));
  if (!clusterId) throw new ServiceStartError('kafka', 'StorageTool random-uuid failed', undefined, id.stderr);
  return clusterId;
}
