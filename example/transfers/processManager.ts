import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { Counter, Gauge, Registry } from 'prom-client';
import type { CommandClient } from '../../guard/client/commandClient.js';
import type { Logger } from '../../guard/log.js';
import { CommandRejectedError, KesError } from '../../pipeline/errors.js';
import { decodeHeaders } from '../../pipeline/events/eventRecord.js';
import { failpoint } from '../../pipeline/faults/failpoints.js';
import type { EventCatalog } from '../../pipeline/schemas/eventCatalog.js';
import type { TransferEvent, TransferState } from './transfer.js';

/**
 * The transfers service's process manager: a consumer group on the transfer topic that moves each transfer one step
 * per event, by sending commands through the guard (it owns no account: the accounts module decides every debit,
 * credit and refund).
 *
 *   TransferRequested -> withdraw from `from`      -> recordDebit  (refused: fail, nothing moved)
 *   TransferDebited   -> deposit into `to`         -> recordCredit (refused: refundDebit on `from`, then fail)
 *   TransferCredited  -> settleDebit on `from`     -> complete
 *
 * Exactly once in effect: offsets are committed after a step, so a crash redelivers the event and the step runs
 * again. Every command carries a command id made of the transfer id and the step (`<transferId>:debit`), so its
 * events get the same ids and the guard answers a repeat from the first write; and the account remembers which
 * transfers debited and credited it, so even a repeat outside the idempotency window moves no money.
 */
export interface ProcessManagerOptions {
  kafka: Kafka;
  catalog: EventCatalog;
  client: CommandClient;
  topic: string;
  group: string;
  /** Partitions worked on at once (a transfer's events are in one partition, in order). @default 12 */
  concurrency?: number;
  /** Transfers of one slice worked on at once (per partition). @default 32 */
  transfersAtOnce?: number;
  /** Messages per slice of a fetched batch: the most a crash makes this process work through again. @default 256 */
  sliceMessages?: number;
  /** @default 10000 */
  sessionTimeoutMs?: number;
  log: Logger;
}

export class ProcessManagerMetrics {
  readonly registry = new Registry();
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
    help: 'Steps that failed with an error retrying cannot fix (the consumer restarts and the event comes again)',
    registers: [this.registry],
  });
  readonly partitions = new Gauge({
    name: 'kes_transfers_assigned_partitions',
    help: 'Partitions of the transfer topic assigned to this process',
    registers: [this.registry],
  });
}

type Step = 'debit' | 'credit' | 'settle' | 'refund';

export class TransferProcessManager {
  readonly metrics = new ProcessManagerMetrics();
  private consumer: Consumer | undefined;
  private stopping = false;
  private running = false;

  constructor(private readonly options: ProcessManagerOptions) {}

  get ready(): boolean {
    return this.running;
  }

  async start(): Promise<void> {
    const o = this.options;
    await this.waitForTopic();
    const consumer = o.kafka.consumer({
      groupId: o.group,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 100,
      sessionTimeout: o.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: Math.max(300, Math.floor((o.sessionTimeoutMs ?? 10_000) / 10)),
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      const assignment = event.payload.memberAssignment as Record<string, number[]>;
      this.metrics.partitions.set(Object.values(assignment).reduce((n, ps) => n + ps.length, 0));
      this.running = true;
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [o.topic], fromBeginning: true });
    await consumer.run({
      partitionsConsumedConcurrently: o.concurrency ?? 12,
      // A fetch holds many transfers: their steps run side by side, each transfer's own events in order (they share
      // its stream key). The batch is worked through in slices; each slice's offsets are committed when it is done,
      // so a crash replays at most one slice, which the steps' idempotency absorbs.
      eachBatchAutoResolve: false,
      eachBatch: async ({
        batch,
        resolveOffset,
        heartbeat,
        commitOffsetsIfNecessary,
        uncommittedOffsets,
        isRunning,
        isStale,
      }) => {
        const slice = o.sliceMessages ?? 256;
        for (let from = 0; from < batch.messages.length; from += slice) {
          const messages = batch.messages.slice(from, from + slice);
          const byTransfer = new Map<string, KafkaMessage[]>();
          for (const message of messages) {
            const key = message.key?.toString() ?? '';
            const list = byTransfer.get(key);
            if (list) list.push(message);
            else byTransfer.set(key, [message]);
          }
          const queues = [...byTransfer.values()];
          const lane = async () => {
            for (let queue = queues.shift(); queue; queue = queues.shift()) {
              for (const message of queue) {
                if (!isRunning() || isStale()) return;
                await this.handle(message);
              }
            }
          };
          await Promise.all(Array.from({ length: o.transfersAtOnce ?? 32 }, lane));
          if (!isRunning() || isStale()) return;
          resolveOffset((messages[messages.length - 1] as KafkaMessage).offset);
          await heartbeat();
          // With offsets given, kafkajs commits now (without, only on an interval or threshold, neither set here).
          await commitOffsetsIfNecessary(uncommittedOffsets());
        }
      },
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.consumer?.disconnect().catch(() => {});
  }

  /** The transfer topic is created by the guard on the first transfer; until then there is nothing to do. */
  private async waitForTopic(): Promise<void> {
    const admin = this.options.kafka.admin();
    await admin.connect();
    try {
      let said = false;
      while (!this.stopping && !(await admin.listTopics()).includes(this.options.topic)) {
        if (!said) this.options.log.info('waiting for the transfer topic', { topic: this.options.topic });
        said = true;
        await sleep(1_000);
      }
    } finally {
      await admin.disconnect();
    }
  }

  private async handle(message: KafkaMessage): Promise<void> {
    const headers = decodeHeaders(message.headers);
    if (!headers || !message.value) return; // not a kes event: nothing for the saga
    if (
      headers.type !== 'TransferRequested' &&
      headers.type !== 'TransferDebited' &&
      headers.type !== 'TransferCredited'
    ) {
      return;
    }
    const { data } = await this.options.catalog.decode(message.value);
    try {
      await this.react({ type: headers.type, data } as TransferEvent);
    } catch (error) {
      if (!this.stopping) {
        this.metrics.failures.inc();
        this.options.log.error('transfer step failed', { stream: headers.stream, version: headers.version, error });
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
   * command) is thrown: kafkajs restarts the consumer and the event comes again, so a stuck transfer is visible as
   * lag and in the failure count, never silently skipped.
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
