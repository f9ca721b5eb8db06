import { spawn, spawnSync } from 'node:child_process';

/** Running docker and compose: a child process with a timeout, its output kept bounded and split into lines. */

export interface RunResult {
  /** null when the program could not be started or was killed (timeout). */
  code: number | null;
  stdout: string;
  /** stdout and stderr interleaved, bounded: what an error message shows. */
  output: string;
}

interface RunOptions {
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  onLine?: ((line: string) => void) | undefined;
}

const OUTPUT_LIMIT = 64 * 1024;

export function run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    // Our own timer rather than spawn's `timeout`: that one is not cleared when the program is missing (ENOENT),
    // and would hold every `kes` command open for the whole timeout on a machine without docker.
    const timer =
      options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    let stdout = '';
    let output = '';
    const lines = lineSplitter(options.onLine);
    const collect = (toStdout: boolean) => (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      if (toStdout) stdout = keepTail(stdout + text);
      output = keepTail(output + text);
      lines.push(text);
    };
    child.stdout.on('data', collect(true));
    child.stderr.on('data', collect(false));
    // 'error' (e.g. ENOENT) may come without 'close'; resolving twice is harmless.
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, output: `${output}${error.message}\n` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      lines.flush();
      resolve({ code, stdout, output });
    });
  });
}

function keepTail(text: string): string {
  return text.length > OUTPUT_LIMIT ? text.slice(-OUTPUT_LIMIT) : text;
}

function lineSplitter(onLine: ((line: string) => void) | undefined): { push(text: string): void; flush(): void } {
  let pending = '';
  const emit = (line: string) => {
    const trimmed = line.replace(/\r$/, '');
    if (onLine && trimmed.trim() !== '') onLine(trimmed);
  };
  return {
    push(text) {
      const parts = (pending + text).split('\n');
      pending = parts.pop() ?? '';
      for (const part of parts) emit(part);
    },
    flush() {
      emit(pending);
      pending = '';
    },
  };
}

export function lastLines(text: string, count = 40): string {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}

export function exitsZero(command: string, args: string[]): boolean {
  const result = spawnSync(command, args, { stdio: 'ignore', timeout: 10_000 });
  return result.status === 0;
}
