import { readdirSync, readFileSync } from 'node:fs';
import type { Accounted } from '../../bench/support/cpuMeter.js';

/** The parent of a process, from /proc/<pid>/stat (field 4), or undefined when it is gone or not on this machine. */
export function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A server that forks a process per connection (Postgres) as one name to account: the parent and its children as
 * they are at each snapshot (backends come and go with the pool).
 */
export function processTree(name: string, root: number): () => Accounted[] {
  return () => {
    const out: Accounted[] = [{ name, pid: root }];
    for (const entry of readdirSync('/proc')) {
      const pid = Number(entry);
      if (Number.isInteger(pid) && pid !== root && parentOf(pid) === root) out.push({ name, pid });
    }
    return out;
  };
}
