import { type ChildProcess, spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findUpwards } from '../../devstack/findUpwards.js';
import { waitFor } from './waitFor.js';

// Found upwards, so that it works from the sources (vitest) and from dist/ (the soak).
const bin = findUpwards('bin/kes.js', dirname(fileURLToPath(import.meta.url)));

/**
 * A `kes` command in its own process (from dist/), ready when `readyUrl` answers 200, so that tests can kill -9
 * it, SIGSTOP it, restart it on the same port, and see how often it ended by itself (failpoints).
 */
export class KesProcess {
  private child: ChildProcess | undefined;
  private output = '';
  readonly exits: (number | string | null)[] = [];
  /** How long each start took until ready (ms). */
  readonly startMs: number[] = [];
  starts = 0;
  private readonly lineListeners: ((line: string) => void)[] = [];

  constructor(
    readonly name: string,
    private readonly args: readonly string[],
    private readonly readyUrl: string,
    private readonly env: Record<string, string | undefined>,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Calls `listener` with every whole line the process writes from now on (to count what its log says). */
  onLine(listener: (line: string) => void): void {
    this.lineListeners.push(listener);
  }

  /** The last lines the process wrote (for failure messages). */
  tail(lines = 30): string {
    return this.output.split('\n').slice(-lines).join('\n');
  }

  async start(env: Record<string, string | undefined> = {}, readyTimeoutMs = 60_000): Promise<void> {
    this.starts += 1;
    const began = Date.now();
    const child = spawn(process.execPath, [bin, ...this.args], {
      env: { ...process.env, ...this.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let partial = '';
    const collect = (chunk: Buffer) => {
      const text = chunk.toString();
      this.output = (this.output + text).slice(-20_000);
      if (this.lineListeners.length === 0) return;
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) for (const listener of this.lineListeners) listener(line);
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

  /** SIGTERM (after SIGCONT, in case it is stopped), SIGKILL after 15 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}
