import type { GuardContext } from '../context.js';
import { currentGeneration } from '../protocol/generation.js';
import type { Validated } from '../protocol/redisState.js';
import { rebuildState } from './rebuild.js';

// Tested by: guard/guard.api.int.test.ts ('guard state: lost, rebuilt, and not ready meanwhile': 503 while another
// guard holds the rebuild lease, rebuild after a wipe) and guard/faults/redisLoss.int.test.ts (restarts and
// rollbacks noticed under load). Whether a generation record is valid: protocol/generationRecord, unit-tested.

/**
 * Knows whether the guard may take writes: Redis holds a generation record bound to the running server's run id.
 * Checks on start, on every Redis reconnect, whenever a script answers 'stale', and once a second; when the state
 * is not valid it rebuilds it from Kafka (or waits while another guard does).
 */
export class StateMonitor {
  private current: Validated | undefined;
  private checking: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private waiters: (() => void)[] = [];
  private stopped = false;
  reason = 'starting';

  constructor(private readonly ctx: GuardContext) {}

  get validated(): Validated | undefined {
    return this.current;
  }

  start(): void {
    this.ctx.redis.on('close', () => this.invalidate('Redis connection lost'));
    this.ctx.redis.on('ready', () => void this.check());
    this.timer = setInterval(() => void this.check(), 1_000);
    this.timer.unref();
    void this.check();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.current = undefined;
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** A script found Redis not in the validated state. */
  invalidate(reason: string): void {
    if (this.current) this.ctx.log.warn('guard state invalid', { reason });
    this.current = undefined;
    this.reason = reason;
    this.ctx.metrics.ready.set(0);
    void this.check();
  }

  /** Resolves once the state is valid (or the monitor stops). */
  whenValid(): Promise<void> {
    if (this.current) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  check(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.checking ??= this.runCheck().finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  private async runCheck(): Promise<void> {
    try {
      let v = await currentGeneration(this.ctx.redis, this.ctx.keys);
      if (!v) {
        if (this.current) this.ctx.log.warn('Redis state changed under the guard (restart, data loss or rollback)');
        this.current = undefined;
        this.reason = 'rebuilding state from Kafka';
        this.ctx.metrics.ready.set(0);
        v = await rebuildState(this.ctx);
        if (!v) {
          this.reason = 'another guard is rebuilding the state from Kafka';
          return;
        }
      }
      if (this.current?.gen !== v.gen) this.ctx.log.info('guard state valid', { gen: v.gen });
      this.current = v;
      this.reason = '';
      this.ctx.metrics.ready.set(1);
      for (const wake of this.waiters.splice(0)) wake();
    } catch (error) {
      this.current = undefined;
      this.reason = `cannot validate state: ${error instanceof Error ? error.message : String(error)}`;
      this.ctx.metrics.ready.set(0);
      this.ctx.log.warn('state check failed', { error });
    }
  }
}
