import { type ChildProcess, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { HttpLoadClient } from '../../verify/load/httpLoad.js';

/** Guards the benchmarks start as processes of their own (`kes guard` from dist/), logging to the run directory. */
export interface GuardProcess {
  /** How messages name it: `guard 2`, `the guard`. */
  name: string;
  url: string;
  child: ChildProcess;
  logPath: string;
  exited: Promise<number | null>;
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export async function startGuardProcess(options: {
  name: string;
  root: string;
  env: NodeJS.ProcessEnv;
  logPath: string;
  /** Write a CPU profile of the guard into this directory. */
  profileDir?: string | undefined;
  /** A compiled module file for `kes guard --modules` (the commands bench gives the bank's). */
  modulesFile?: string | undefined;
}): Promise<GuardProcess> {
  const port = await freePort();
  const log = openSync(options.logPath, 'a');
  const nodeArgs = options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : [];
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      join(options.root, 'bin', 'kes.js'),
      'guard',
      '--port',
      String(port),
      ...(options.modulesFile ? ['--modules', options.modulesFile] : []),
    ],
    { cwd: options.root, env: options.env, stdio: ['ignore', log, log] },
  );
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { name: options.name, url: `http://127.0.0.1:${port}`, child, logPath: options.logPath, exited };
}

export async function waitReady(guard: GuardProcess, client: HttpLoadClient, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void guard.exited.then(() => {
    exited = true;
  });
  for (;;) {
    if (exited) throw new Error(`${guard.name} exited before it was ready; see ${guard.logPath}`);
    const answer = await client.get('/health/ready').catch(() => undefined);
    if (answer?.status === 200) return;
    if (Date.now() > deadline)
      throw new Error(`${guard.name} was not ready after ${timeoutMs} ms; see ${guard.logPath}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** SIGTERM (the guard finishes in-flight appends), SIGKILL after 30 s. */
export async function stopGuard(guard: GuardProcess, progress: (line: string) => void): Promise<void> {
  if (guard.child.exitCode !== null || guard.child.pid === undefined) return;
  guard.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    guard.exited.then(() => false),
    new Promise<boolean>((r) => {
      timer = setTimeout(() => r(true), 30_000);
    }),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    progress(`${guard.name} (pid ${guard.child.pid}) did not stop within 30 s of SIGTERM; killing it`);
    guard.child.kill('SIGKILL');
    await guard.exited;
  }
}
