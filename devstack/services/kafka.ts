import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ServiceStartError } from '../../pipeline/errors.js';
import { ensureKafkaJars, KAFKA_VERSION, kafkaJarsCached, requireDownloadTools } from '../artifacts.js';
import { findJava } from '../prerequisites.js';
import type { SpawnSpec } from '../processes.js';
import { type LocalService, logPath, pidPath, type StackContext, serviceDir } from './service.js';

/** Apache Kafka in KRaft combined mode (broker + controller in one JVM), one node. */
export const kafkaService: LocalService = {
  name: 'kafka',
  portKeys: ['kafka', 'kafkaController'],

  available(config) {
    findJava(17);
    if (!kafkaJarsCached(config.KES_CACHE_DIR)) requireDownloadTools();
    return true;
  },

  async prepare(ctx) {
    const dir = serviceDir(ctx, 'kafka');
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir, { recursive: true });
    const libs = await ensureKafkaJars(ctx.config.KES_CACHE_DIR, ctx.progress);
    const java = findJava(17);
    const properties = join(dir, 'server.properties');
    writeFileSync(properties, serverProperties(ctx, dataDir));
    writeFileSync(join(dir, 'log4j2.properties'), LOG4J2);
    if (!existsSync(join(dataDir, 'meta.properties'))) {
      ctx.progress('kafka: formatting storage');
      formatStorage(java, libs, properties);
    }
    const spec: SpawnSpec = {
      command: java,
      args: [
        '-Xms256m',
        '-Xmx768m',
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-Djava.awt.headless=true',
        `-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`,
        '-cp',
        `${libs}/*`,
        'kafka.Kafka',
        properties,
      ],
      logPath: logPath(ctx, 'kafka'),
      pidPath: pidPath(ctx, 'kafka'),
      cwd: dir,
    };
    return spec;
  },

  async ready(ctx) {
    const kafka = new Kafka({
      brokers: [`127.0.0.1:${ctx.ports.kafka}`],
      clientId: 'kes-stack-probe',
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1000,
      requestTimeout: 2000,
      retry: { retries: 0 },
    });
    const admin = kafka.admin();
    try {
      await admin.connect();
      // A metadata request that lists the broker: the broker has registered with its controller.
      const cluster = await admin.describeCluster();
      return cluster.brokers.length > 0;
    } catch {
      return false;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  },

  address(ctx) {
    return `127.0.0.1:${ctx.ports.kafka}`;
  },

  async version() {
    return KAFKA_VERSION;
  },
};

function serverProperties(ctx: StackContext, dataDir: string): string {
  const { kafka, kafkaController } = ctx.ports;
  return `# Written by kes stack up; rewritten on every start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${kafkaController}
listeners=PLAINTEXT://127.0.0.1:${kafka},CONTROLLER://127.0.0.1:${kafkaController}
advertised.listeners=PLAINTEXT://127.0.0.1:${kafka}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=${dataDir}
num.partitions=4
auto.create.topics.enable=false
offsets.topic.replication.factor=1
# Few partitions for the internal topics: the first group join and first transaction are much faster on 2 cores.
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# A zombie guard must be fenced, not timed out: keep the broker's cap on transaction timeouts generous.
transaction.max.timeout.ms=900000
log.retention.hours=-1
`;
}

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

function formatStorage(java: string, libs: string, properties: string): void {
  const cp = `${libs}/*`;
  const id = spawnSync(java, ['-cp', cp, 'kafka.tools.StorageTool', 'random-uuid'], { encoding: 'utf8' });
  const clusterId = id.stdout
    .split('\n')
    .map((l) => l.trim())
    .find((l) => /^[A-Za-z0-9_-]{22}$/.test(l));
  if (!clusterId) throw new ServiceStartError('kafka', 'StorageTool random-uuid failed', undefined, id.stderr);
  // -g: a directory that is already formatted is fine (a second `up` racing this one).
  const result = spawnSync(
    java,
    ['-cp', cp, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', properties, '-g'],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) {
    throw new ServiceStartError('kafka', 'StorageTool format failed', undefined, `${result.stderr}${result.stdout}`);
  }
}
