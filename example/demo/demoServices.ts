import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { findFreePort } from '../../devstack/ports.js';
import { ServiceStartError } from '../../pipeline/errors.js';

/**
 * The demo's own services, each a `kes` process like a user would run it (`kes guard`, `kes project`,
 * `kes transfers`), with its output in `<dir>/<name>.log`. Started detached, so `--keep` can leave them running
 * after the demo exits; otherwise the demo stops them (SIGTERM, then SIGKILL after 15 s).
 */
export interface DemoService {
  /** guard-1, guard-2, …, projector, transfers */
  name: string;
  url: string;
  pid: number;
  log: string;
}

export interface ServiceSpec {
  name: DemoService['name'];
  args: string[];
  /** The port setting and its default: a taken default moves to the next free port. */
  portSetting: string;
  defaultPort: number;
  env: Record<string, string>;
  /** Wait for /health/ready (else /health/live: the process manager is ready only once a transfer exists). */
  waitReady: boolean;
}

const bin = findBin();

function findBin(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const candidate = join(dir, 'bin', 'kes.js');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error('bin/kes.js not found above the demo module');
  }
}

export class DemoServices {
  readonly started: DemoService[] = [];
  readonly moved: string[] = [];
  private readonly children = new Map<string, ChildProcess>();
  private readonly taken = new Set<number>();

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  async start(spec: ServiceSpec, timeoutMs = 120_000): Promise<DemoService> {
    const port = await findFreePort(spec.defaultPort, this.taken);
    this.taken.add(port);
    if (port !== spec.defaultPort) this.moved.push(`${spec.name}: port ${spec.defaultPort} is taken, using ${port}`);
    const log = join(this.dir, `${spec.name}.log`);
    const fd = openSync(log, 'a');
    const child = spawn(process.execPath, [bin, ...spec.args], {
      env: { ...process.env, ...spec.env, [spec.portSetting]: String(port) },
      stdio: ['ignore', fd, fd],
      detached: true,
    });
    closeSync(fd);
    this.children.set(spec.name, child);
    const url = `http://127.0.0.1:${port}`;
    const service: DemoService = { name: spec.name, url, pid: child.pid as number, log };
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code, signal) =>
        reject(new ServiceStartError(spec.name, `exited (${signal ?? code}) before it was ready`, log, tail(log))),
      ),
    );
    exited.catch(() => {});
    const probe = `${url}${spec.waitReady ? '/health/ready' : '/health/live'}`;
    const deadline = Date.now() + timeoutMs;
    const ready = (async () => {
      for (;;) {
        const status = await fetch(probe, { signal: AbortSignal.timeout(2_000) }).then(
          (r) => r.status,
          () => 0,
        );
        if (status === 200) return;
        if (Date.now() > deadline) {
          throw new ServiceStartError(spec.name, `not ready at ${probe} after ${timeoutMs / 1000} s`, log, tail(log));
        }
        await sleep(200);
      }
    })();
    await Promise.race([ready, exited]);
    this.started.push(service);
    return service;
  }

  /** Lets the services outlive this process (`--keep`). */
  detach(): void {
    for (const child of this.children.values()) child.unref();
  }

  async stopAll(): Promise<void> {
    await Promise.all(
      [...this.children.values()].reverse().map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}

function tail(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
