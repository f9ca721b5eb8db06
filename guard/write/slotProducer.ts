import type { Producer } from 'kafkajs';
import type { GuardContext } from '../context.js';
import { initTransactional, transactionalIdOf } from '../protocol/fencing.js';
import type { Resolver } from '../recovery/resolver.js';
import type { StateMonitor } from '../recovery/stateMonitor.js';
import type { SlotLeases } from './slotLeases.js';

// Tested by: guard/faults/zombie.int.test.ts (a paused guard's slot taken over and fenced) and
// guard/faults/crash.int.test.ts (a restarted guard settling what its slot's earlier holder left open).

/**
 * A writer's leased slot and the producer initialised under the slot's stable transactional id. Initialising takes
 * the id's epoch, fencing any earlier holder, so a guard writes only while it holds the lease; losing the lease
 * drops the producer, and the next init leases again.
 */
export class SlotProducer {
  producer: Producer | undefined;
  slot: number | undefined;
  ready = false;
  private incarnation = 0;
  private stopped = false;
  private renewTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: GuardContext,
    private readonly slots: SlotLeases,
    private readonly state: StateMonitor,
    private readonly resolver: Resolver,
    private readonly name: string,
  ) {}

  /** Starts every reservation id of this incarnation: an id tells which slot, guard, writer and incarnation made it. */
  get prefix(): string {
    return `${this.slot}.${this.ctx.instanceId}.${this.name}.${this.incarnation}.`;
  }

  /** Lease a slot, take its transactional id (fencing any earlier holder), settle what that holder left open. */
  async init(): Promise<void> {
    this.ready = false;
    // Re-initialising a slot another guard has since leased would fence that guard: lease again instead.
    if (this.slot !== undefined && !(await this.slots.renew(this.slot))) this.slot = undefined;
    if (this.slot === undefined) this.slot = await this.slots.acquire();
    this.incarnation += 1;
    const transactionalId = transactionalIdOf(this.ctx.settings.namespace, this.slot);
    this.producer = await initTransactional(
      this.ctx.kafka,
      transactionalId,
      Math.max(10_000, this.ctx.settings.leaseMs * 2),
    );
    this.ctx.log.info('writer ready', { writer: this.name, slot: this.slot, transactionalId });
    if (!this.renewTimer) {
      this.renewTimer = setInterval(() => void this.renew(), Math.max(100, Math.floor(this.ctx.settings.leaseMs / 3)));
      this.renewTimer.unref();
    }
    this.ready = true;
    // What this slot's earlier holder left open can be settled now (its epoch is gone); in the background, since
    // it only concerns the streams those reservations lock.
    if (this.state.validated) {
      void this.resolver
        .sweep({ ownSlot: this.slot, ownPrefix: this.prefix })
        .catch((error: unknown) => this.ctx.log.warn('sweep after init failed', { error }));
    }
  }

  private async renew(): Promise<void> {
    if (this.slot === undefined || this.stopped) return;
    try {
      if (!(await this.slots.renew(this.slot))) {
        this.ctx.log.warn('slot lease lost to another guard; re-leasing', { writer: this.name, slot: this.slot });
        this.slot = undefined;
        await this.drop();
      }
    } catch {
      // Redis unreachable: the lease may lapse, and then Kafka's fencing protects the log.
    }
  }

  async drop(): Promise<void> {
    this.ready = false;
    const producer = this.producer;
    this.producer = undefined;
    if (producer) await producer.disconnect().catch(() => {});
  }

  /** No more renewals; the lease stays held until `close`. */
  stopRenewing(): void {
    this.stopped = true;
    if (this.renewTimer) clearInterval(this.renewTimer);
  }

  async close(): Promise<void> {
    await this.drop();
    if (this.slot !== undefined) await this.slots.release(this.slot).catch(() => {});
    this.slot = undefined;
  }
}
