import { setTimeout as sleep } from 'node:timers/promises';
import type { CommandClient } from '../../guard/client/commandClient.js';
import type { CommandResult } from '../../guard/commands/commandHandler.js';
import { CommandConflictError, CommandRejectedError } from '../../pipeline/errors.js';
import type { AppendAttempt } from '../../verify/history/history.js';

/**
 * The demo's workload: a bank's clients sending commands through the guard. Many accounts, a few hot ones that
 * most traffic goes to (so writers collide on the same streams), deposits, withdrawals that may bounce, and
 * transfers in flight, some of them bound to fail (an account in another currency, a closed account) so that the
 * process manager has to refund.
 *
 * It keeps what it was told: the money acknowledged in and out per currency (the ledger check compares it with the
 * log), every written command as an append attempt (for `kes check`), and the transfers it requested.
 */
export interface WorkloadOptions {
  /** One client per guard: commands go round-robin, so writers of a hot account meet in different guards. */
  clients: readonly CommandClient[];
  /** Prefix of every account and transfer id of this run. */
  runId: string;
  accounts: number;
  concurrency: number;
  durationMs: number;
  /** Commands per second over all clients; 0 = as fast as the system answers. */
  rate: number;
  /** Share of accounts that are hot. @default 0.05 */
  hotShare?: number;
  /** Share of operations that go to a hot account. @default 0.5 */
  hotTraffic?: number;
  random?: () => number;
}

export interface WorkloadStats {
  commands: number;
  ok: number;
  /** Refused by a business rule, by the module's code (insufficient_funds, …). */
  rejected: Map<string, number>;
  /** Attempts the guard decided again after losing the compare-and-swap (answers with attempts > 1). */
  conflictsRetried: number;
  /** Commands whose every attempt lost (409 after the guard's retries). */
  conflictsSpent: number;
  errors: number;
  lastError?: string;
  transfersRequested: number;
  latenciesMs: number[];
}

interface Account {
  id: string;
  currency: string;
}

export class BankWorkload {
  readonly stats: WorkloadStats = {
    commands: 0,
    ok: 0,
    rejected: new Map(),
    conflictsRetried: 0,
    conflictsSpent: 0,
    errors: 0,
    transfersRequested: 0,
    latenciesMs: [],
  };
  /** Money acknowledged per currency: what the log must hold as external deposits and withdrawals. */
  readonly acknowledged = new Map<string, { externalIn: number; externalOut: number }>();
  readonly attempts: AppendAttempt[] = [];
  readonly transfers: string[] = [];
  private readonly open: Account[] = [];
  private readonly closed: Account[] = [];
  private readonly random: () => number;
  private transferSeq = 0;
  private sent = 0;
  private stopped = false;

  constructor(private readonly options: WorkloadOptions) {
    this.random = options.random ?? Math.random;
  }

  /** Opens the accounts with a first deposit (1 in 10 in USD), and a few closed ones for transfers to bounce off. */
  async setup(onProgress?: (done: number) => void): Promise<void> {
    const { accounts, runId } = this.options;
    const closedCount = Math.max(1, Math.floor(accounts * 0.03));
    let next = 0;
    let done = 0;
    const worker = async () => {
      while (next < accounts + closedCount) {
        const i = next++;
        const account: Account = { id: `${runId}-a${i}`, currency: i % 10 === 9 ? 'USD' : 'EUR' };
        await this.send('account', account.id, 'open', { owner: `customer-${i}`, currency: account.currency });
        if (i < accounts) {
          await this.deposit(account, 10_000 + Math.floor(this.random() * 90_000));
          this.open.push(account);
        } else {
          await this.send('account', account.id, 'close', { reason: 'demo: closed to make transfers bounce' });
          this.closed.push(account);
        }
        onProgress?.(++done);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency, 8) }, worker));
  }

  /** The clients, until the duration is up (or `stop`). */
  async run(): Promise<void> {
    const deadline = Date.now() + this.options.durationMs;
    const { rate, concurrency } = this.options;
    const started = Date.now();
    let issued = 0;
    const client = async () => {
      while (!this.stopped && Date.now() < deadline) {
        if (rate > 0) {
          // Open-loop pacing: the n-th command of the run is due at n / rate seconds.
          const due = started + (issued++ / rate) * 1000;
          if (due > Date.now()) await sleep(due - Date.now());
          if (Date.now() >= deadline) break;
        }
        await this.operation();
      }
    };
    await Promise.all(Array.from({ length: concurrency }, client));
  }

  stop(): void {
    this.stopped = true;
  }

  private pick(): Account {
    const hot = Math.max(1, Math.floor(this.open.length * (this.options.hotShare ?? 0.05)));
    const index =
      this.random() < (this.options.hotTraffic ?? 0.5)
        ? Math.floor(this.random() * hot)
        : Math.floor(this.random() * this.open.length);
    return this.open[index] as Account;
  }

  private async operation(): Promise<void> {
    const roll = this.random();
    const account = this.pick();
    if (roll < 0.35) return this.deposit(account, 100 + Math.floor(this.random() * 5_000));
    if (roll < 0.7) return this.withdraw(account, 100 + Math.floor(this.random() * 8_000));
    let to = this.pick();
    const odd = this.random();
    if (odd < 0.03 && this.closed.length > 0)
      to = this.closed[Math.floor(this.random() * this.closed.length)] as Account;
    else if (odd < 0.06) to = this.open.find((a) => a.currency !== account.currency) ?? to;
    if (to.id === account.id) return this.deposit(account, 100);
    const transferId = `${this.options.runId}-t${this.transferSeq++}`;
    // The transfer's currency is the source's: a destination in another currency refuses the credit (refund).
    const ok = await this.send('transfer', transferId, 'request', {
      from: account.id,
      to: to.id,
      amount: 100 + Math.floor(this.random() * 5_000),
      currency: account.currency,
    });
    if (ok) {
      this.transfers.push(transferId);
      this.stats.transfersRequested++;
    }
  }

  private async deposit(account: Account, amount: number): Promise<void> {
    if (await this.send('account', account.id, 'deposit', { amount, currency: account.currency })) {
      this.tally(account.currency).externalIn += amount;
    }
  }

  private async withdraw(account: Account, amount: number): Promise<void> {
    if (await this.send('account', account.id, 'withdraw', { amount, currency: account.currency })) {
      this.tally(account.currency).externalOut += amount;
    }
  }

  private tally(currency: string): { externalIn: number; externalOut: number } {
    let t = this.acknowledged.get(currency);
    if (!t) {
      t = { externalIn: 0, externalOut: 0 };
      this.acknowledged.set(currency, t);
    }
    return t;
  }

  /** One command; true when it was applied (now or by an earlier attempt whose answer was lost). */
  private async send(category: string, id: string, type: string, data: unknown): Promise<boolean> {
    const startMs = Date.now();
    this.stats.commands++;
    try {
      const clients = this.options.clients;
      const client = clients[this.sent++ % clients.length] as CommandClient;
      const result = await client.send(category, id, type, data);
      const endMs = Date.now();
      this.stats.ok++;
      this.stats.conflictsRetried += Math.max(0, result.attempts - 1);
      this.record(result, startMs, endMs);
      if (this.stats.latenciesMs.length < 200_000) this.stats.latenciesMs.push(endMs - startMs);
      return true;
    } catch (error) {
      if (error instanceof CommandRejectedError) {
        this.stats.rejected.set(error.reason, (this.stats.rejected.get(error.reason) ?? 0) + 1);
      } else if (error instanceof CommandConflictError) {
        this.stats.conflictsSpent++;
        this.stats.conflictsRetried += error.attempts - 1;
      } else {
        this.stats.errors++;
        this.stats.lastError = error instanceof Error ? error.message : String(error);
      }
      return false;
    }
  }

  /** A written command as `kes check` reads a history: the append the guard made for it, answered ok. */
  private record(result: CommandResult, startMs: number, endMs: number): void {
    if (result.duplicate || result.events.length === 0 || !result.position) return;
    const first = result.events[0]?.version as number;
    this.attempts.push({
      op: 'append',
      client: 'demo',
      stream: result.stream,
      expectedVersion: first - 1,
      eventIds: result.events.map((e) => e.id),
      attempt: 1,
      startMs,
      endMs,
      outcome: {
        status: 'ok',
        firstVersion: first,
        lastVersion: result.version,
        topic: result.position.topic,
        partition: result.position.partition,
        offset: result.position.offset,
      },
    });
  }
}
