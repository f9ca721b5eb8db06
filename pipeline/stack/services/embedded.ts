import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The embedded ClickHouse engine (npm `chdb`) is a library, not a process: the stack only checks that it loads
 * and reports its version. It probes in a throwaway directory because one process at a time may hold a data
 * path, and the real one belongs to whichever kes process serves the read models.
 */
export async function embeddedEngineVersion(): Promise<string | undefined> {
  const dir = mkdtempSync(join(tmpdir(), 'kes-chdb-probe-'));
  try {
    const { Session } = await import('chdb');
    const session = new Session(dir);
    try {
      return session.query('SELECT version()', 'TabSeparated').trim();
    } finally {
      session.close();
    }
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
