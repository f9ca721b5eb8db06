import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findUpwards } from '../../devstack/findUpwards.js';

// Found upwards, so that it works from the sources (vitest) and from dist/ (the soak).
const bin = findUpwards('bin/kes.js', dirname(fileURLToPath(import.meta.url)));

export interface KesRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built `kes` CLI (dist/, from `npm run build`) as a user would, in its own process.
 * `env` replaces the environment entirely when `replaceEnv` is set, so a test can take a program off PATH.
 */
export function runKes(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; replaceEnv?: boolean; timeoutMs?: number } = {},
): Promise<KesRun> {
  const env = options.replaceEnv ? (options.env ?? {}) : { ...process.env, ...options.env };
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kes ${args.join(' ')} did not finish in ${options.timeoutMs ?? 240_000} ms\n${stderr}`));
    }, options.timeoutMs ?? 240_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? 1, stdout, stderr });
    });
  });
}
