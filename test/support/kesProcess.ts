import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from './waitFor.js';

const bin = fileURLToPath(new URL('../../bin/kes.js', import.meta.url));

/**
 * A `kes` command in its own process (from dist/), ready when `readyUrl` answers 200, so that tests can kill -9
 * it, restart it on the same port and watch how often it ended by itself (failpoints).
 */
export class KesProcess {
  private child: ChildProcess | undefined;
  private output = '';
  readonly exits: (number | string | null)[] = [];
  starts = 0;

  constructor(
    readonly name: string,
    private readonly args: readonly string[],
    private readonly readyUrl: string,
    private readonly env: Record<string, string | undefined>,
  ) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  tail(lines = 30): string {
    return this.output.split('\n').slice(-lines).join('\n');
  }

  async start(env: Record<string, string | undefined> = {}, readyTimeoutMs = 60_000): Promise<void> {
    this.starts += 1;
    const child = spawn(process.execPath, [bin, ...this.args], {
      env: { ...process.env, ...this.env, ...env },
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
      `${this.name} ready at ${this.readyUrl}`,
      async () => (await fetch(this.readyUrl).catch(() => undefined))?.status === 200,
      readyTimeoutMs,
      100,
    );
    await Promise.race([ready, exited]);
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}
