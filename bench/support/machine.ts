import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { round } from './figures.js';

/**
 * The machine a benchmark runs on, and its CPU from /proc: per process, per thread, and in all. Other sessions share
 * these machines, so every phase is measured against what else was running.
 */

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system) in a /proc stat file (`/proc/<pid>/stat`, `/proc/self/task/<tid>/stat`). */
export function statCpuSeconds(path: string): number | undefined {
  try {
    const stat = readFileSync(path, 'utf8');
    // after "pid (comm) ": utime and stime are fields 14 and 15 (1-based), indexes 11 and 12 here
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/** Busy and total CPU seconds of the whole machine, summed over its cores. */
export function machineSeconds(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: (total - idle) / CLK_TCK, total: total / CLK_TCK };
}

/** The machine's CPU between two `machineSeconds()`, in % of one core (200% = both cores of a 2-core machine). */
export function machinePercent(a: { busy: number; total: number }, b: { busy: number; total: number }): number {
  const total = b.total - a.total;
  return total > 0 ? (100 * cpus().length * (b.busy - a.busy)) / total : 0;
}

/**
 * Before a phase, with the bench idle, waits until the whole machine stays under `percent` of one core for a
 * second (at most `maxWaitMs`), so phases are not measured against someone else's load. Answers the CPU of the
 * last idle second.
 */
export async function waitQuiet(
  percent: number,
  maxWaitMs: number,
  progress: (line: string) => void,
): Promise<{ idleCpu: number; waitedMs: number }> {
  const began = Date.now();
  let noticed = false;
  for (;;) {
    const a = machineSeconds();
    await new Promise((r) => setTimeout(r, 1000));
    const busy = machinePercent(a, machineSeconds());
    const waitedMs = Date.now() - began;
    if (busy < percent || waitedMs >= maxWaitMs) {
      if (busy >= percent) {
        progress(`  machine still busy (${busy.toFixed(0)}% of one core) after ${waitedMs / 1000} s; measuring anyway`);
      }
      return { idleCpu: round(busy, 0), waitedMs };
    }
    if (!noticed) {
      progress(`  machine busy (${busy.toFixed(0)}% of one core with the bench idle); waiting for it to calm down`);
      noticed = true;
    }
  }
}

/** The local stack's processes (`kes stack status`), to account their CPU. */
export function stackPids(root: string): { name: string; pid: number }[] {
  try {
    let out: string;
    try {
      out = execFileSync(process.execPath, [join(root, 'bin', 'kes.js'), 'stack', 'status', '--format', 'json'], {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 60_000,
      });
    } catch (error) {
      // `kes stack status` exits 1 when any service is down (say, no ClickHouse server beside the embedded engine).
      out = String((error as { stdout?: unknown }).stdout ?? '');
    }
    const rows = JSON.parse(out) as { service: string; pid: number | null }[];
    return rows.filter((r) => r.pid !== null).map((r) => ({ name: r.service, pid: r.pid as number }));
  } catch {
    return [];
  }
}

/** The code measured: commit, and how many files under `dirs` had uncommitted changes (a shared checkout). */
export function codeVersion(root: string, dirs: readonly string[]): string {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = git('status', '--porcelain', '--', ...dirs)
      .split('\n')
      .filter((l) => l.trim() !== '').length;
    const where = dirs.map((d) => `${d}/`).join(', ');
    return `${git('rev-parse', '--short', 'HEAD')}${dirty > 0 ? ` + ${dirty} uncommitted file(s) in ${where}` : ''}`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

export function machine(root: string, dirs: readonly string[]): Record<string, string | number> {
  const list = cpus();
  return {
    cores: list.length,
    cpu: list[0]?.model ?? 'unknown',
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    date: new Date().toISOString(),
    code: codeVersion(root, dirs),
  };
}
