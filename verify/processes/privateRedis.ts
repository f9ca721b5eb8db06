import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './freePort.js';
import { waitFor } from './waitFor.js';

/**
 * A Redis server of one test's own, so the test can crash it, lose its data, or roll it back to an older snapshot
 * without touching the shared stack.
 */
export class PrivateRedis {
  private child: ChildProcess | undefined;
  readonly dir = mkdtempSync(join(tmpdir(), 'kes-redis-'));
  port = 0;
  restarts = 0;

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts (or restarts) the server over whatever is in its directory. `aof`: AOF with fsync every second. */
  async start(options: { aof: boolean } = { aof: true }): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    this.child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--save',
        '',
        '--appendonly',
        options.aof ? 'yes' : 'no',
        '--appendfsync',
        'everysec',
      ],
      { stdio: 'ignore' },
    );
    await waitFor(`private redis on ${this.port}`, async () => {
      const redis = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      redis.on('error', () => {});
      try {
        await redis.connect();
        return (await redis.ping()) === 'PONG';
      } finally {
        redis.disconnect();
      }
    });
  }

  /** kill -9: what was not yet fsynced is lost. */
  async crash(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.restarts += 1;
  }

  /** A point-in-time copy of the data (SAVE, then the RDB file set aside). */
  async snapshot(): Promise<string> {
    const redis = new Redis(this.url);
    try {
      await redis.save();
    } finally {
      redis.disconnect();
    }
    const copy = join(this.dir, `snapshot-${Date.now()}.rdb`);
    copyFileSync(join(this.dir, 'dump.rdb'), copy);
    return copy;
  }

  /**
   * Crash, then come back from an older snapshot: every write since it is gone, silently. `thenAof` turns the AOF
   * on again afterwards (a rewrite from the loaded data), so that a later crash loses only its last second.
   */
  async rollBackTo(snapshot: string, options: { thenAof?: boolean } = {}): Promise<void> {
    await this.crash();
    this.removeData();
    copyFileSync(snapshot, join(this.dir, 'dump.rdb'));
    await this.start({ aof: false });
    if (options.thenAof) {
      const redis = new Redis(this.url);
      try {
        await redis.config('SET', 'appendonly', 'yes');
      } finally {
        redis.disconnect();
      }
    }
  }

  /** Crash, then come back empty. */
  async loseEverything(): Promise<void> {
    await this.crash();
    this.removeData();
    await this.start({ aof: true });
  }

  private removeData(): void {
    for (const name of ['dump.rdb', 'appendonlydir', 'appendonly.aof']) {
      const path = join(this.dir, name);
      if (existsSync(path)) rmSync(path, { recursive: true, force: true });
    }
  }

  async stop(): Promise<void> {
    await this.crash();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
