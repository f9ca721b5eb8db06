import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive, readPid } from '../../devstack/processes.js';
import { kafkaNodeName } from '../../devstack/services/kafka.js';
import { stackEnvPath } from '../../pipeline/config/config.js';
import { readEnvFile } from '../../pipeline/config/stackEnvFile.js';
import { freePorts } from './freePort.js';
import { runKes } from './runKes.js';

/**
 * A Kafka cluster of one test's own: `kes stack up --kafka-brokers N --only kafka` in a private home, on free ports,
 * so that the test can kill -9 any node and bring it back without touching the stack other tests share. Node n
 * (1-based) has Kafka node id n and is the stack's service `kafka` (n = 1) or `kafka-<n>`.
 */
export class PrivateKafkaCluster {
  readonly home = mkdtempSync(join(tmpdir(), 'kes-kcluster-'));
  private env: NodeJS.ProcessEnv = {};
  brokers: string[] = [];
  restarts = 0;

  constructor(readonly nodes = 3) {}

  /** Starts every node that is not running (all of them the first time) and waits until each is registered. */
  async start(): Promise<void> {
    if (this.brokers.length === 0) {
      const [broker, controller] = await freePorts(2);
      this.env = { KES_KAFKA_PORT: String(broker), KES_KAFKA_CONTROLLER_PORT: String(controller) };
    }
    const run = await runKes(
      ['--home', this.home, 'stack', 'up', '--only', 'kafka', '--kafka-brokers', String(this.nodes)],
      { env: this.env, timeoutMs: 240_000 },
    );
    if (run.code !== 0) throw new Error(`private kafka cluster did not start:\n${run.stdout}\n${run.stderr}`);
    const brokers = readEnvFile(stackEnvPath(this.home)).KAFKA_BROKERS;
    if (!brokers) throw new Error(`no KAFKA_BROKERS in ${stackEnvPath(this.home)}`);
    this.brokers = brokers.split(',');
  }

  pidOf(node: number): number | undefined {
    const name = kafkaNodeName(node);
    return readPid(join(this.home, name, `${name}.pid`));
  }

  /** kill -9 one node; resolves when the process is gone. */
  async kill(node: number): Promise<void> {
    const pid = this.pidOf(node);
    if (pid === undefined) throw new Error(`node ${node} of ${this.home} has no pid`);
    process.kill(pid, 'SIGKILL');
    while (isAlive(pid)) await sleep(20);
  }

  /** Brings back every killed node over its data (`up` is idempotent: running nodes are left alone). */
  async bringBack(): Promise<void> {
    this.restarts += 1;
    await this.start();
  }

  async stop(): Promise<void> {
    await runKes(['--home', this.home, 'stack', 'down'], { env: this.env }).catch(() => undefined);
    rmSync(this.home, { recursive: true, force: true });
  }
}
