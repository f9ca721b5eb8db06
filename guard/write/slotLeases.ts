import type { Redis } from 'ioredis';
import type { KeySpace } from '../protocol/keys.js';

/**
 * A guard writes under a slot it leases in Redis: the lease keeps two live guards off the same transactional id
 * (they would fence each other forever). Correctness does not rest on the lease: a guard that lost it, or a zombie
 * that slept through its expiry, is fenced by Kafka when the next holder initialises the slot's id.
 */
const RENEW = `
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if not holder then return redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') and 1 or 0 end
return 0
`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

export class NoFreeSlotError extends Error {
  constructor(slots: number) {
    super(`all ${slots} guard slots are leased (KES_GUARD_SLOTS bounds how many guard writers run at once)`);
  }
}

export class SlotLeases {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySpace,
    private readonly slots: number,
    private readonly leaseMs: number,
    private readonly holder: string,
  ) {}

  /** Leases a free slot, trying them from a random start so concurrent guards rarely collide. */
  async acquire(): Promise<number> {
    const start = Math.floor(Math.random() * this.slots);
    for (let i = 0; i < this.slots; i++) {
      const slot = (start + i) % this.slots;
      const ok = await this.redis.set(this.keys.slot(slot), this.holder, 'PX', this.leaseMs, 'NX');
      if (ok === 'OK') return slot;
    }
    throw new NoFreeSlotError(this.slots);
  }

  /** True while the lease is ours (re-taken if Redis lost it); false once another guard holds the slot. */
  async renew(slot: number): Promise<boolean> {
    return Number(await this.redis.eval(RENEW, 1, this.keys.slot(slot), this.holder, this.leaseMs)) === 1;
  }

  async release(slot: number): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.keys.slot(slot), this.holder);
  }
}
