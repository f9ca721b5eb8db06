import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { waitFor } from './waitFor.js';

const bin = fileURLToPath(new URL('../../bin/kes.js', import.meta.url));

/** A free TCP port on 127.0.0.1, chosen by the kernel. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * A guard in its own process (`kes guard`, from dist/), so that tests can kill -9 it, SIGSTOP it, and start it
 * again on the same port, like a crashed, paused or restarted service.
 */
export class GuardProcess {
  private child: ChildProcess | undefined;
  private output = '';
  starts = 0;
  exits: (number | string | null)[] = [];

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: Record<string, string | undefined>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last lines the process wrote (for failure messages). */
  tail(lines = 30): string {
    return this.output.split('\n').slice(-lines).join('\n');
  }

  /** How long each start took until ready (ms). */
  readonly startMs: number[] = [];

  async start(readyTimeoutMs = 60_000): Promise<void> {
    this.starts += 1;
    const began = Date.now();
    const child = spawn(process.execPath, [bin, 'guard', '--port', String(this.port)], {
      env: { ...process.env, KES_LOG_LEVEL: process.env.KES_FAULT_LOG_LEVEL ?? 'warn', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const collect = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-20_000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.once('exit', (code, signal) => this.exits.push(signal ?? code));
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code, signal) =>
        reject(new Error(`${this.name} exited (${signal ?? code}) before it was ready:\n${this.tail()}`)),
      ),
    );
    exited.catch(() => {});
    const ready = waitFor(
      `${this.name} ready on ${this.url}`,
      async () => (await fetch(`${this.url}/health/ready`).catch(() => undefined))?.status === 200,
      readyTimeoutMs,
      100,
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n--- ${this.name} output ---\n${this.tail()}`);
    });
    await Promise.race([ready, exited]);
    this.startMs.push(Date.now() - began);
  }

  signal(signal: NodeJS.Signals): void {
    if (this.child?.pid !== undefined) process.kill(this.child.pid, signal);
  }

  /** kill -9, and wait until the process is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Waits for a process that is expected to end by itself (a failpoint). */
  async waitExit(timeoutMs = 60_000): Promise<void> {
    await waitFor(`${this.name} to exit`, () => !this.running, timeoutMs, 50);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
