import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive, readPid } from '../../devstack/processes.js';
import { freePort } from './freePort.js';
import { runKes } from './runKes.js';

/**
 * A Kafka broker of one test's own (the local stack's Kafka service in a private home, on free ports), so the test
 * can kill and restart it without disturbing the tests that share the stack.
 */
export class PrivateKafka {
  readonly home = mkdtempSync(join(tmpdir(), 'kes-kafka-'));
  private env: NodeJS.ProcessEnv = {};
  port = 0;
  restarts = 0;

  get brokers(): string[] {
    return [`127.0.0.1:${this.port}`];
  }

  async start(): Promise<void> {
    if (this.port === 0) {
      this.port = await freePort();
      this.env = { KES_KAFKA_PORT: String(this.port), KES_KAFKA_CONTROLLER_PORT: String(await freePort()) };
    }
    const run = await runKes(['--home', this.home, 'stack', 'up', '--only', 'kafka'], {
      env: this.env,
      timeoutMs: 180_000,
    });
    if (run.code !== 0) throw new Error(`private kafka did not start:\n${run.stdout}\n${run.stderr}`);
  }

  /** kill -9 the broker, then start it again over its data. */
  async crashAndRestart(): Promise<void> {
    const pid = readPid(join(this.home, 'kafka', 'kafka.pid'));
    if (pid !== undefined) {
      process.kill(pid, 'SIGKILL');
      while (isAlive(pid)) await sleep(50);
    }
    this.restarts += 1;
    await this.start();
  }

  /** A clean shutdown and start, as in a rolling restart. */
  async restart(): Promise<void> {
    const run = await runKes(['--home', this.home, 'stack', 'down', '--only', 'kafka'], { env: this.env });
    if (run.code !== 0) throw new Error(`private kafka did not stop:\n${run.stderr}`);
    this.restarts += 1;
    await this.start();
  }

  async stop(): Promise<void> {
    await runKes(['--home', this.home, 'stack', 'down'], { env: this.env }).catch(() => undefined);
    rmSync(this.home, { recursive: true, force: true });
  }
}
