import { randomUUID } from 'node:crypto';
import { type Admin, type Consumer, type Kafka, Partitioners, type Producer } from 'kafkajs';
import { contentHash } from '../../pipeline/events/contentHash.js';
import { encodeHeaders } from '../../pipeline/events/eventRecord.js';
import type { AppendAttempt } from '../../verify/history/history.js';

/**
 * Read-decide-append on raw Kafka, as a service without a guard would do it: a consumer folds the topic into each
 * stream's state; before deciding, a writer asks the broker for the partitions' end offsets and waits until the fold
 * has read that far (so it decides on everything written before its read); then it appends "version v + 1, balance
 * b + 1" with an idempotent producer (acks=all). Nothing stops another writer from doing the same in between.
 */
export class RawKafkaView {
  private readonly state = new Map<string, { version: number; balance: number }>();
  /** Next offset to read, per partition. */
  private readonly readTo = new Map<number, number>();
  private waiters: (() => void)[] = [];

  private constructor(
    private readonly topic: string,
    private readonly consumer: Consumer,
    private readonly admin: Admin,
    readonly producer: Producer,
  ) {}

  static async open(kafka: Kafka, topic: string, group: string): Promise<RawKafkaView> {
    const consumer = kafka.consumer({ groupId: group, maxWaitTimeInMs: 10, readUncommitted: false });
    const admin = kafka.admin();
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await Promise.all([consumer.connect(), admin.connect(), producer.connect()]);
    const view = new RawKafkaView(topic, consumer, admin, producer);
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const stream = m.key?.toString();
          const version = Number(m.headers?.['kes-version']?.toString());
          if (stream && Number.isInteger(version)) view.state.set(stream, { version, balance: version + 1 });
        }
        view.readTo.set(batch.partition, Number(batch.lastOffset()) + 1);
        for (const wake of view.waiters.splice(0)) wake();
      },
    });
    return view;
  }

  /** The stream's state once the fold has read everything the partitions held when this was called. */
  async read(stream: string): Promise<{ version: number; balance: number }> {
    const ends = await this.admin.fetchTopicOffsets(this.topic);
    const caughtUp = () => ends.every((p) => (this.readTo.get(p.partition) ?? 0) >= Number(p.high));
    while (!caughtUp()) await new Promise<void>((r) => this.waiters.push(r));
    return this.state.get(stream) ?? { version: -1, balance: 0 };
  }

  async close(): Promise<void> {
    for (const wake of this.waiters.splice(0)) wake();
    await Promise.allSettled([this.consumer.disconnect(), this.admin.disconnect(), this.producer.disconnect()]);
  }
}

/** One raw writer's read-decide-append: the attempt as the history checker takes it. */
export async function rawIncrement(
  view: RawKafkaView,
  topic: string,
  stream: string,
  client: string,
): Promise<AppendAttempt> {
  const startMs = Date.now();
  const { version, balance } = await view.read(stream);
  const eventId = randomUUID();
  const data = { amount: 1, currency: 'EUR', transferId: null };
  const metadata = { balanceAfter: balance + 1 };
  const [meta] = await view.producer.send({
    topic,
    acks: -1,
    messages: [
      {
        key: stream,
        value: JSON.stringify(data),
        headers: encodeHeaders({
          stream,
          version: version + 1,
          eventId,
          type: 'MoneyDeposited',
          timeMs: Date.now(),
          contentHash: contentHash('MoneyDeposited', data, metadata),
          metadata,
        }),
      },
    ],
  });
  return {
    op: 'append',
    client,
    stream,
    expectedVersion: version < 0 ? 'no_stream' : version,
    eventIds: [eventId],
    attempt: 1,
    startMs,
    endMs: Date.now(),
    outcome: {
      status: 'ok',
      firstVersion: version + 1,
      lastVersion: version + 1,
      topic,
      partition: meta?.partition ?? 0,
      offset: Number(meta?.baseOffset ?? 0),
    },
  };
}
