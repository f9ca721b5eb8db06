import { readFileSync } from 'node:fs';
import type { Accounted } from '../../bench/support/cpuMeter.js';
import type { PostgresMessageStore } from '../postgres/messageStore.js';
import { parentOf, processTree } from './processTree.js';

/**
 * The Postgres server's processes on this machine, to account their CPU: the postmaster (the parent of our
 * backend) and its children. A server elsewhere (or in a container's pid namespace) cannot be measured from here:
 * then nothing is accounted and the note says so.
 */
export async function postgresProcesses(
  store: PostgresMessageStore,
): Promise<{ processes: () => Accounted[]; note: string }> {
  const { rows } = await store.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const backend = rows[0]?.pid;
  const comm = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      return undefined;
    }
  };
  const postmaster = backend === undefined || comm(backend) !== 'postgres' ? undefined : parentOf(backend);
  if (postmaster === undefined || comm(postmaster) !== 'postgres')
    return {
      processes: () => [],
      note: 'the Postgres server is not a process of this machine: its CPU is not in the CPU per append',
    };
  return {
    processes: processTree('postgres', postmaster),
    note: `Postgres postmaster pid ${postmaster}: its CPU and its backends' are accounted`,
  };
}
