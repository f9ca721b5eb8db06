import { randomUUID } from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EmbeddedOwnerError, PortInUseError } from '../errors.js';
import { EmbeddedEngine } from './embeddedEngine.js';
import type { ClickHouseEngine, QueryParams } from './engine.js';
import { HttpFacade } from './httpFacade.js';
import { ServerEngine } from './serverEngine.js';

/**
 * Who serves an embedded data path. chdb lets one process open a path (it flocks `<path>/status`); that process,
 * the owner, serves the data to every other process through its HTTP facade (httpFacade.ts), and says where in
 * `<path>/owner.json`:
 *
 *   {"pid":123,"procStart":"456789","url":"http://127.0.0.1:18124","path":"/…/chdb","startedAt":"2026-…Z",
 *    "version":"26.7.2.1","token":"…"}
 *
 * Claiming is a lock file, `<path>/owner.lock`, created with O_EXCL and holding the claimant's pid, procStart
 * and token. The claimant opens chdb, starts the facade, then writes owner.json (temp file + rename, so readers
 * never see half of it). A lock or owner file whose pid is dead (or reused by another process: procStart differs)
 * is stale and taken over. chdb's own lock is the last word: should two processes both believe they claimed (one
 * removing a lock the other had just taken over), only one opens the path and the other backs off to use it.
 */

export interface OwnerRecord {
  pid: number;
  /** Start time of the pid (field 22 of /proc/<pid>/stat): tells a live owner from a reused pid. */
  procStart?: string | undefined;
  url: string;
  path: string;
  startedAt: string;
  /** ClickHouse version of the embedded engine. */
  version: string;
  /** Identifies this claim: a file is removed only by the claim that wrote it. */
  token: string;
}

interface LockRecord {
  pid: number;
  procStart?: string | undefined;
  token: string;
  startedAt: string;
}

export function ownerFilePath(path: string): string {
  return join(path, 'owner.json');
}

export function ownerLockPath(path: string): string {
  return join(path, 'owner.lock');
}

export interface OpenEmbeddedOptions {
  /** Port of the facade when this process becomes the owner; 0 picks a free one. */
  port: number;
  /** True when the port was set explicitly: then a taken port is an error, not a move to a free one. */
  explicitPort?: boolean;
  maxBodyBytes: number;
  /** How long to wait for an owner that is starting, or for a path another process is still closing. */
  waitMs?: number;
  /** Called with one line when this process becomes the owner or uses another one. */
  progress?: (line: string) => void;
}

/**
 * The engine for an embedded data path: the live owner's facade when there is one (kind `embedded-remote`),
 * else this process claims the path, opens it and serves it (kind `embedded`; its close() stops the facade,
 * closes chdb and removes the owner and lock files). Call it again after a remote engine reports the owner gone
 * (ServiceUnavailableError): a new owner is found, or this process takes the path over.
 */
export async function openEmbedded(path: string, options: OpenEmbeddedOptions): Promise<ClickHouseEngine> {
  mkdirSync(path, { recursive: true });
  const deadline = Date.now() + (options.waitMs ?? 30_000);
  let lastWaitReason = '';
  for (;;) {
    const owner = readOwner(path);
    if (owner) {
      if (isProcessAlive(owner.pid, owner.procStart)) {
        if (await pings(owner.url)) {
          options.progress?.(`embedded ClickHouse at ${path} is served by pid ${owner.pid} at ${owner.url}`);
          return remoteEngine(owner);
        }
        lastWaitReason = `its owner, pid ${owner.pid}, does not answer at ${owner.url}/ping`;
      } else {
        removeIfToken(ownerFilePath(path), owner.token);
      }
    }
    if (!owner || !isProcessAlive(owner.pid, owner.procStart)) {
      const lock = tryLock(path);
      if (lock.created) {
        const owned = await becomeOwner(path, lock.record, options).catch((error: unknown) => {
          removeIfToken(ownerLockPath(path), lock.record.token);
          if (error instanceof EmbeddedOwnerError && error.retriable) {
            lastWaitReason = error.message;
            return undefined;
          }
          throw error;
        });
        if (owned) return owned;
      } else if (lock.holder && !isProcessAlive(lock.holder.pid, lock.holder.procStart)) {
        removeIfToken(ownerLockPath(path), lock.holder.token);
        continue;
      } else if (!lock.holder && lock.ageMs > 10_000) {
        // A lock nobody finished writing in 10 s: its writer died between creating and writing it.
        rmSync(ownerLockPath(path), { force: true });
        continue;
      } else if (lock.holder) {
        lastWaitReason = `pid ${lock.holder.pid} is claiming it (${ownerLockPath(path)})`;
      }
    }
    if (Date.now() > deadline) {
      const current = readOwner(path);
      throw new EmbeddedOwnerError(
        path,
        `embedded ClickHouse at ${path}: no usable owner after ${options.waitMs ?? 30_000} ms: ${lastWaitReason || 'the path stayed locked'}`,
        { retriable: true, pid: current?.pid, url: current?.url },
      );
    }
    await sleep(50 + Math.random() * 50);
  }
}

async function becomeOwner(path: string, lock: LockRecord, options: OpenEmbeddedOptions): Promise<OwnedEngine> {
  const engine = await EmbeddedEngine.open(path);
  let facade: HttpFacade;
  try {
    const version = await engine.version();
    facade = await startFacade(engine, options, version);
    const record: OwnerRecord = {
      pid: process.pid,
      procStart: lock.procStart,
      url: facade.url,
      path,
      startedAt: new Date().toISOString(),
      version,
      token: lock.token,
    };
    writeAtomically(ownerFilePath(path), `${JSON.stringify(record)}\n`);
    options.progress?.(`embedded ClickHouse at ${path}: this process (pid ${process.pid}) serves it at ${facade.url}`);
    return new OwnedEngine(engine, facade, record);
  } catch (error) {
    await engine.close();
    throw error;
  }
}

async function startFacade(engine: EmbeddedEngine, options: OpenEmbeddedOptions, version: string) {
  const facadeOptions = { maxBodyBytes: options.maxBodyBytes, version };
  try {
    return await HttpFacade.start(engine, { ...facadeOptions, port: options.port });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || options.port === 0) throw error;
    if (options.explicitPort) {
      throw new PortInUseError('embedded ClickHouse facade (KES_CLICKHOUSE_EMBEDDED_PORT)', options.port, undefined);
    }
    // The default port is taken (another stack, another owner): any port will do, owner.json says which.
    return HttpFacade.start(engine, { ...facadeOptions, port: 0 });
  }
}

/** The embedded engine this process owns, with the facade that serves it to the others. */
export class OwnedEngine implements ClickHouseEngine {
  readonly kind = 'embedded' as const;
  private closing: Promise<void> | undefined;

  constructor(
    readonly engine: EmbeddedEngine,
    readonly facade: HttpFacade,
    readonly owner: OwnerRecord,
  ) {}

  get url(): string {
    return this.facade.url;
  }

  command(sql: string, params?: QueryParams): Promise<void> {
    return this.engine.command(sql, params);
  }

  insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
    return this.engine.insert(table, rows);
  }

  query<Row = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<Row[]> {
    return this.engine.query<Row>(sql, params);
  }

  version(): Promise<string> {
    return this.engine.version();
  }

  /** Stops advertising, lets requests in flight finish, closes chdb, then releases the claim. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      removeIfToken(ownerFilePath(this.owner.path), this.owner.token);
      try {
        await this.facade.close();
        await this.engine.close();
      } finally {
        removeIfToken(ownerLockPath(this.owner.path), this.owner.token);
      }
    })();
    return this.closing;
  }
}

function remoteEngine(owner: OwnerRecord): ServerEngine {
  return new ServerEngine(owner.url, {
    kind: 'embedded-remote',
    describe: `the owner of embedded ClickHouse ${owner.path} (pid ${owner.pid})`,
  });
}

/** The owner file, if there is a well-formed one. */
export function readOwner(path: string): OwnerRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(ownerFilePath(path), 'utf8')) as Partial<OwnerRecord>;
    if (typeof record.pid !== 'number' || typeof record.url !== 'string' || typeof record.token !== 'string') {
      return undefined;
    }
    return record as OwnerRecord;
  } catch {
    return undefined;
  }
}

/** The live owner of `path` whose facade answers /ping, if any. */
export async function liveOwner(path: string): Promise<OwnerRecord | undefined> {
  const owner = readOwner(path);
  if (!owner || !isProcessAlive(owner.pid, owner.procStart)) return undefined;
  return (await pings(owner.url)) ? owner : undefined;
}

export async function pings(url: string, timeoutMs = 2_000): Promise<boolean> {
  try {
    const response = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(timeoutMs) });
    return response.ok && (await response.text()) === 'Ok.\n';
  } catch {
    return false;
  }
}

type LockAttempt = { created: true; record: LockRecord } | { created: false; holder?: LockRecord; ageMs: number };

function tryLock(path: string): LockAttempt {
  const file = ownerLockPath(path);
  const record: LockRecord = {
    pid: process.pid,
    procStart: processStart(process.pid),
    token: randomUUID(),
    startedAt: new Date().toISOString(),
  };
  try {
    const fd = openSync(file, 'wx');
    try {
      writeSync(fd, `${JSON.stringify(record)}\n`);
    } finally {
      closeSync(fd);
    }
    return { created: true, record };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  let ageMs = 0;
  try {
    ageMs = Date.now() - statSync(file).mtimeMs;
  } catch {
    // removed meanwhile: the next round creates it
  }
  try {
    const holder = JSON.parse(readFileSync(file, 'utf8')) as LockRecord;
    if (typeof holder.pid === 'number' && typeof holder.token === 'string') return { created: false, holder, ageMs };
  } catch {
    // being written, or garbage: judged by its age
  }
  return { created: false, ageMs };
}

/** Removes a lock or owner file only while it still carries `token`: never one a newer claim wrote. */
function removeIfToken(file: string, token: string): void {
  try {
    const current = JSON.parse(readFileSync(file, 'utf8')) as { token?: unknown };
    if (current.token === token) rmSync(file, { force: true });
  } catch {
    // gone or unreadable: nothing of ours to remove
  }
}

function writeAtomically(file: string, content: string): void {
  const temp = `${file}.${process.pid}.${randomUUID()}.tmp`;
  writeFileSync(temp, content);
  renameSync(temp, file);
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); undefined off Linux. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Alive, not a zombie, and, when known, the same process that wrote the record (not a reused pid). */
export function isProcessAlive(pid: number, procStart?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return false;
    if (procStart !== undefined && fields[19] !== procStart) return false;
  } catch {
    // no /proc: kill(0) is all we can tell
  }
  return true;
}
