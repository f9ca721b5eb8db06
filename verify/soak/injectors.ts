import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KesProcess } from '../processes/kesProcess.js';
import { waitFor } from '../processes/waitFor.js';
import type { PlannedFault } from './faultSchedule.js';
import type { SoakServices } from './soakServices.js';

/**
 * Carries out one planned fault on the soak's services and puts everything back: a killed process is started
 * again, a stopped one woken, Redis and the broker brought back. Whether the fault really happened is reported,
 * not assumed: a failpoint that never fired, a guard that was not running, answers that were not dropped.
 */
export interface InjectedFault {
  index: number;
  kind: PlannedFault['kind'];
  target: number;
  failpoint?: string;
  durationMs: number;
  startMs: number;
  endMs: number;
  happened: boolean;
  note: string;
}

/** A process killed or held by a fault can take this long to be ready again (a guard behind a full rebuild). */
const RESTART_READY_MS = 10 * 60_000;
/** How long an armed failpoint gets to fire (it fires within the first few group commits that reach it). */
const FAILPOINT_WAIT_MS = 60_000;
/** An armed failpoint fires at this share of the times its point is reached, once. */
const FAILPOINT_SHARE = 0.3;
/** Share of successful answers the proxies drop during a lost-answers fault. */
const DROP_SHARE = 0.15;

export class FaultInjector {
  /** Processes a fault is holding down: the watchdog leaves them alone. */
  readonly held = new Set<KesProcess>();
  private readonly stops = new Map<KesProcess, number>();

  constructor(private readonly services: SoakServices) {
    for (const g of services.guards) {
      g.onLine((line) => {
        if (/^failpoint [a-z-]+: stop/.test(line)) this.stops.set(g, (this.stops.get(g) ?? 0) + 1);
      });
    }
  }

  async inject(fault: PlannedFault): Promise<InjectedFault> {
    const startMs = Date.now();
    let outcome: { happened: boolean; note: string };
    try {
      outcome = await this.carryOut(fault);
    } catch (error) {
      outcome = { happened: false, note: `failed: ${(error as Error).message.split('\n')[0]}` };
    }
    return {
      index: fault.index,
      kind: fault.kind,
      target: fault.target,
      ...(fault.failpoint ? { failpoint: fault.failpoint } : {}),
      durationMs: fault.durationMs,
      startMs,
      endMs: Date.now(),
      ...outcome,
    };
  }

  private async carryOut(fault: PlannedFault): Promise<{ happened: boolean; note: string }> {
    const s = this.services;
    const guard = s.guards[fault.target % s.guards.length];
    switch (fault.kind) {
      case 'guard-kill':
        return this.holding(guard, async (g) => {
          if (!g.running) return { happened: false, note: `${g.name} was not running` };
          await g.kill();
          await sleep(fault.durationMs);
          await g.start({}, RESTART_READY_MS);
          return { happened: true, note: `${g.name} killed -9, down ${fault.durationMs} ms` };
        });
      case 'guard-kill-failpoint':
        return this.armingEveryGuard(`${fault.failpoint}:${FAILPOINT_SHARE}x1`, async (fired) => {
          await sleep(fault.durationMs);
          return fired.length > 0
            ? `${fired.map((g) => g.name).join(', ')} killed itself at ${fault.failpoint}, down ${fault.durationMs} ms`
            : `${fault.failpoint} did not fire in ${FAILPOINT_WAIT_MS / 1000} s`;
        });
      case 'guard-stop':
        return this.holding(guard, async (g) => {
          if (!g.running) return { happened: false, note: `${g.name} was not running` };
          g.signal('SIGSTOP');
          await sleep(fault.durationMs);
          g.signal('SIGCONT');
          return { happened: true, note: `${g.name} stopped ${fault.durationMs} ms` };
        });
      case 'guard-zombie-failpoint':
        return this.armingEveryGuard(`stop@${fault.failpoint}:${FAILPOINT_SHARE}x1`, async (fired) => {
          if (fired.length > 0) await sleep(fault.durationMs);
          for (const g of s.guards) g.signal('SIGCONT');
          return fired.length > 0
            ? `${fired.map((g) => g.name).join(', ')} frozen at ${fault.failpoint} for ${fault.durationMs} ms, then woken`
            : `stop@${fault.failpoint} did not fire in ${FAILPOINT_WAIT_MS / 1000} s`;
        });
      case 'redis-crash':
        await s.redis.crash();
        await s.redis.start({ aof: true });
        return { happened: true, note: 'Redis killed -9, restarted from its AOF' };
      case 'redis-rollback': {
        const snapshot = await s.redis.snapshot();
        await sleep(fault.durationMs);
        await s.redis.rollBackTo(snapshot, { thenAof: true });
        rmSync(snapshot, { force: true });
        return { happened: true, note: `Redis rolled back to a snapshot ${fault.durationMs} ms old` };
      }
      case 'redis-wipe':
        await s.redis.loseEverything();
        return { happened: true, note: 'Redis restarted empty' };
      case 'broker-restart':
        await s.kafka.restart();
        return { happened: true, note: 'broker shut down and started' };
      case 'broker-kill':
        await s.kafka.crashAndRestart();
        return { happened: true, note: 'broker killed -9 and started' };
      case 'lost-answers': {
        const droppedSoFar = () => s.proxies.reduce((n, p) => n + p.answersDropped, 0);
        const before = droppedSoFar();
        for (const p of s.proxies) p.dropShare = DROP_SHARE;
        await sleep(fault.durationMs);
        for (const p of s.proxies) p.dropShare = 0;
        const dropped = droppedSoFar() - before;
        return { happened: dropped > 0, note: `${dropped} answers dropped in ${fault.durationMs} ms` };
      }
      case 'projector-kill':
        return this.holding(s.projectors[fault.target % s.projectors.length], async (p) => {
          if (!p.running) return { happened: false, note: `${p.name} was not running` };
          await p.kill();
          await sleep(fault.durationMs);
          await p.start({}, RESTART_READY_MS);
          return { happened: true, note: `${p.name} killed -9, down ${fault.durationMs} ms` };
        });
      case 'clickhouse-kill':
        return this.holding(s.clickhouse, async (c) => {
          if (!c.running) return { happened: false, note: 'ClickHouse was not running' };
          await c.kill();
          await sleep(fault.durationMs);
          await c.start({}, RESTART_READY_MS);
          return { happened: true, note: `ClickHouse killed -9, down ${fault.durationMs} ms` };
        });
    }
  }

  /**
   * Restarts every guard, one after the other, with `failpoints` armed, and waits until one of them fires (dies or
   * freezes). Every guard, because clients stay with the guard that last answered them: a guard restarted alone
   * gets no traffic until another fails, and its failpoint would never be reached. `then` sees the guards that
   * fired; afterwards the dead are started and the others restarted without failpoints.
   */
  private async armingEveryGuard(
    failpoints: string,
    then: (fired: KesProcess[]) => Promise<string>,
  ): Promise<{ happened: boolean; note: string }> {
    const guards = this.services.guards;
    const hits = (g: KesProcess) => g.exits.filter((e) => e === 'SIGKILL').length + (this.stops.get(g) ?? 0);
    const before = new Map(guards.map((g) => [g as KesProcess, hits(g)]));
    const firedOnes = () => guards.filter((g) => hits(g) > (before.get(g) ?? 0));
    const armed = new Set<KesProcess>();
    for (const g of guards) this.held.add(g);
    try {
      for (const g of guards) {
        if (firedOnes().length > 0) break;
        await g.stop();
        armed.add(g);
        // A failpoint may fire before the guard reports ready: that is the fault, not a failed start.
        await g.start({ KES_FAILPOINTS: failpoints }, RESTART_READY_MS).catch((error: unknown) => {
          if (firedOnes().length === 0) throw error;
        });
      }
      await waitFor(`a failpoint (${failpoints}) to fire`, () => firedOnes().length > 0, FAILPOINT_WAIT_MS).catch(
        () => {},
      );
      const fired = firedOnes();
      const note = await then(fired);
      // Dead ones start clean; live ones (woken zombies included, whose failpoint is spent) are restarted clean,
      // so that no armed failpoint is left to fire outside a fault.
      for (const g of guards) {
        if (g.running && (fired.includes(g) || !armed.has(g))) continue;
        await g.stop();
        await g.start({}, RESTART_READY_MS);
      }
      return { happened: fired.length > 0, note };
    } finally {
      for (const g of guards) this.held.delete(g);
    }
  }

  /** Runs a fault on one process with the watchdog kept off it. */
  private async holding<T extends KesProcess>(
    process: T | undefined,
    fault: (p: T) => Promise<{ happened: boolean; note: string }>,
  ): Promise<{ happened: boolean; note: string }> {
    if (!process) return { happened: false, note: 'no such process' };
    this.held.add(process);
    try {
      return await fault(process);
    } finally {
      this.held.delete(process);
    }
  }
}

/**
 * Restarts guards, projectors and ClickHouse that died outside a fault (a crash of their own), until stopped; counts
 * them, since an unplanned death is worth a look even when the checker finds nothing.
 */
export class Watchdog {
  readonly restarts = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private busy = new Set<KesProcess>();

  constructor(
    private readonly processes: () => KesProcess[],
    private readonly held: ReadonlySet<KesProcess>,
    private readonly log: (line: string) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.check(), 500);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private check(): void {
    for (const p of this.processes()) {
      if (p.running || this.held.has(p) || this.busy.has(p) || p.starts === 0) continue;
      this.busy.add(p);
      this.restarts.set(p.name, (this.restarts.get(p.name) ?? 0) + 1);
      this.log(`watchdog: ${p.name} died outside a fault (${String(p.exits.at(-1))}), restarting\n${p.tail(10)}`);
      p.start({}, RESTART_READY_MS)
        .catch((error: unknown) => this.log(`watchdog: ${p.name} did not come back: ${(error as Error).message}`))
        .finally(() => this.busy.delete(p));
    }
  }
}
