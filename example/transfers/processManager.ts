import { setTimeout as sleep } from 'node:timers/promises';
import type { Kafka } from 'kafkajs';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { CommandClient } from '../../guard/client/commandClient.js';
import type { Logger } from '../../guard/log.js';
import { CommandRejectedError, ConfigError, KesError } from '../../pipeline/errors.js';
import { failpoint } from '../../pipeline/faults/failpoints.js';
import type { EventCatalog } from '../../pipeline/schemas/eventCatalog.js';
import { type Subscription, subscribe } from '../../pipeline/subscribe/subscribe.js';
import type { SubscribedEvent } from '../../pipeline/subscribe/subscribedEvent.js';
import type { TransferEvent, TransferState } from './transfer.js';

/**
 * The transfers service's process manager: a subscription (pipeline/subscribe/) to the transfer category that moves
 * each transfer one step per event, by sending commands through the guard (it owns no account: the accounts module
 * decides every debit, credit and refund).
 *
 *   TransferRequested -> withdraw from `from`      -> recordDebit  (refused: fail, nothing moved)
 *   TransferDebited   -> deposit into `to`         -> recordCredit (refused: refundDebit on `from`, then fail)
 *   TransferCredited  -> settleDebit on `from`     -> complete
 *
 * Exactly once in effect: the subscription commits an event's offset only after its step, so a crash redelivers the
 * event and the step runs again. Every command carries a command id made of the transfer id and the step
 * (`<transferId>:debit`), so its events get the same ids and the guard answers a repeat from the first write; and
 * the account remembers which transfers debited and credited it, so even a repeat outside the idempotency window
 * moves no money.
 */
export interface ProcessManagerOptions {
  kafka: Kafka;
  /** Decodes the transfer events (its writer schemas are fetched once per id). */
  catalog: Pick<EventCatalog, 'decode'>;
  client: CommandClient;
  /** The transfer category's topic: `<KES_TOPIC_PREFIX>transfer`. */
  topic: string;
  group: string;
  /** Partitions worked on at once (a transfer's events are in one partition, in order). @default 12 */
  concurrency?: number;
  /** Transfers of one partition worked on at once, each transfer's events in order. @default 32 */
  transfersAtOnce?: number;
  /** Events per slice of a fetched batch: the most a crash makes this process work through again. @default 256 */
  sliceMessages?: number;
  /** @default 10000 */
  sessionTimeoutMs?: number;
  log: Logger;
}

export class ProcessManagerMetrics {
  readonly registry = new Registry();
  /** What the partitions gauge reads when scraped (the subscription's assignment). */
  assigned: () => number = () => 0;
  readonly steps = new Counter({
    name: 'kes_transfers_steps_total',
    help: 'Transfer steps taken, by step (debit, credit, settle, refund) and outcome (done, refused, repeat)',
    labelNames: ['step', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly retries = new Counter({
    name: 'kes_transfers_step_retries_total',
    help: 'Steps retried after an answer that may change (guard unavailable, outcome unknown, conflicts spent)',
    registers: [this.registry],
  });
  readonly failures = new Counter({
    name: 'kes_transfers_step_failures_total',
    help: 'Steps that failed with an error retrying cannot fix (the subscription delivers the event again after a backoff)',
    registers: [this.registry],
  });
  readonly partitions: Gauge = new Gauge({
    name: 'kes_transfers_assigned_partitions',
    help: 'Partitions of the transfer topic assigned to this process',
    registers: [this.registry],
    collect: (): void => this.partitions.set(this.assigned()),
  });

  constructor() {
    // Process metrics (CPU, memory, event-loop lag, GC, handles: process_* and nodejs_*), on this registry.
    collectDefaultMetrics({ register: this.registry });
  }
}

type Step = 'debit' | 'credit' | 'settle' | 'refund';
const CATEGORY = 'transfer';

export class TransferProcessManager {
  readonly metrics = new ProcessManagerMetrics();
  private subscription: Subscription | undefined;
  private stopping = false;
  private running = false;

  constructor(private readonly options: ProcessManagerOptions) {
    this.metrics.assigned = () => this.subscription?.assignedPartitions ?? 0;
  }

  get ready(): boolean {
    return this.running;
  }

  /** Runs until stop() (resolves) or until the subscription stops on an error (rejects with it). */
  async start(): Promise<void> {
    const o = this.options;
    if (this.stopping) return;
    if (!o.topic.endsWith(CATEGORY)) throw new ConfigError('topic', `'${o.topic}' is not a ${CATEGORY} topic`);
    // A step that fails for a reason retrying cannot fix (a module bug, a bad command) is delivered again after a
    // backoff, for ever: a stuck transfer shows as lag and in the failure count; it is never skipped, and the
    // transfers after it in its partition wait (their steps may depend on it).
    const subscription = subscribe(
      {
        categories: [CATEGORY],
        group: o.group,
        from: 'start',
        config: { KES_TOPIC_PREFIX: o.topic.slice(0, -CATEGORY.length) },
        kafka: o.kafka,
        catalog: o.catalog,
        partitionsAtOnce: o.concurrency ?? 12,
        streamsAtOnce: o.transfersAtOnce ?? 32,
        sliceRecords: o.sliceMessages ?? 256,
        sessionTimeoutMs: o.sessionTimeoutMs ?? 10_000,
        retry: { retries: Number.POSITIVE_INFINITY, initialMs: 100, maxMs: 5_000 },
        log: (line) => o.log.warn(line),
      },
      (event) => this.handle(event),
    );
    this.subscription = subscription;
    subscription.ready.then(
      () => {
        this.running = true;
      },
      () => {},
    );
    await subscription.done;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.subscription?.close();
  }

  private async handle(event: SubscribedEvent): Promise<void> {
    if (event.type !== 'TransferRequested' && event.type !== 'TransferDebited' && event.type !== 'TransferCredited') {
      return;
    }
    try {
      await this.react({ type: event.type, data: event.data } as TransferEvent);
    } catch (error) {
      if (!this.stopping) {
        this.metrics.failures.inc();
        this.options.log.error('transfer step failed', { stream: event.stream, version: event.version, error });
      }
      throw error;
    }
  }

  private async react(event: TransferEvent): Promise<void> {
    switch (event.type) {
      case 'TransferRequested': {
        const t = event.data.transferId;
        this.rememberSides(t, { from: event.data.from, to: event.data.to });
        const debit = await this.account('debit', event.data.from, 'withdraw', {
          amount: event.data.amount,
          currency: event.data.currency,
          transferId: t,
        });
        if (debit.refused) return this.transfer(t, 'fail', { reason: `debit refused (${debit.refused})` }, 'failed');
        return this.transfer(t, 'recordDebit', {}, 'debited');
      }
      case 'TransferDebited': {
        const t = event.data.transferId;
        const { to } = await this.sides(t);
        const credit = await this.account('credit', to, 'deposit', {
          amount: event.data.amount,
          currency: event.data.currency,
          transferId: t,
        });
        if (!credit.refused) return this.transfer(t, 'recordCredit', {}, 'credited');
        const refund = await this.account('refund', event.data.accountId, 'refundDebit', { transferId: t });
        if (refund.refused) {
          // Cannot happen while the accounts module keeps its rule (no close with an open debit): say so loudly.
          this.options.log.error('refund refused: the money stays held by the transfer', { transferId: t });
        }
        return this.transfer(t, 'fail', { reason: `credit refused (${credit.refused}); debit refunded` }, 'failed');
      }
      case 'TransferCredited': {
        const t = event.data.transferId;
        const { from } = await this.sides(t);
        await this.account('settle', from, 'settleDebit', { transferId: t });
        return this.transfer(t, 'complete', {}, 'completed');
      }
    }
  }

  /**
   * Both accounts of a transfer: TransferDebited names only the source, TransferCredited only the destination. The
   * transfer's state (GET /commands/transfer/{id}, folded from the log like any command's) has both.
   */
  private async sides(transferId: string): Promise<{ from: string; to: string }> {
    const known = this.sidesSeen.get(transferId);
    if (known) return known;
    const { state } = await this.retrying(() => this.options.client.state<TransferState>('transfer', transferId));
    return { from: state.from, to: state.to };
  }

  /** Sides of transfers this process saw requested (most steps follow in the same process): saves a read each. */
  private readonly sidesSeen = new Map<string, { from: string; to: string }>();

  private rememberSides(transferId: string, sides: { from: string; to: string }): void {
    this.sidesSeen.set(transferId, sides);
    if (this.sidesSeen.size > 50_000) this.sidesSeen.delete(this.sidesSeen.keys().next().value as string);
  }

  /** One account command; `refused` holds the account's reason when its rules say no. */
  private async account(
    step: Step,
    accountId: string,
    type: string,
    data: { transferId: string } & Record<string, unknown>,
  ): Promise<{ refused?: string }> {
    try {
      const result = await this.retrying(() =>
        this.options.client.send('account', accountId, type, data, { commandId: `${data.transferId}:${step}` }),
      );
      this.metrics.steps.inc({ step, outcome: result.duplicate || result.events.length === 0 ? 'repeat' : 'done' });
      // Fault tests kill the process here: the account moved money, the transfer does not know yet.
      failpoint('transfers-after-account-step', `${data.transferId}:${step}`);
      return {};
    } catch (error) {
      if (error instanceof CommandRejectedError) {
        this.metrics.steps.inc({ step, outcome: 'refused' });
        return { refused: `${error.reason}: ${error.message}` };
      }
      throw error;
    }
  }

  private async transfer(transferId: string, type: string, data: unknown, step: string): Promise<void> {
    await this.retrying(() =>
      this.options.client.send('transfer', transferId, type, data, { commandId: `${transferId}:${step}` }),
    );
  }

  /**
   * Retries what may change on retry, until it does or the process stops. Anything else (a module bug, a bad
   * command) is thrown: the subscription delivers the event again after a backoff, so a stuck transfer is visible
   * as lag and in the failure count, never silently skipped.
   */
  private async retrying<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        const retriable = error instanceof KesError ? error.retriable : true;
        if (!retriable || this.stopping) throw error;
        this.metrics.retries.inc();
        if (attempt % 10 === 0) this.options.log.warn('a transfer step keeps failing; retrying', { attempt, error });
        await sleep(Math.min(2_000, 50 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random() / 2));
      }
    }
  }
}
