import type { Admin, IHeaders, Kafka, Producer } from 'kafkajs';
import { DeadLetterWriteError } from '../../pipeline/errors.js';
import type { Undecodable } from './eventDecoder.js';

export const DLQ_HEADER = {
  reason: 'kes-dlq-reason',
  topic: 'kes-dlq-topic',
  partition: 'kes-dlq-partition',
  offset: 'kes-dlq-offset',
  projection: 'kes-dlq-projection',
  at: 'kes-dlq-at',
} as const;

/**
 * The dead-letter topic of a projection: the original key, value and headers, plus why and where from. Writes are
 * acknowledged by all in-sync replicas before the batch that skipped the records is committed, so a record is
 * either projected, dead-lettered, or still ahead of the committed offset. A write that fails stops the projector.
 */
export class DeadLetterSink {
  private producer: Producer | undefined;
  private ready: Promise<void> | undefined;

  constructor(
    private readonly kafka: Kafka,
    readonly topic: string,
    private readonly projection: string,
  ) {}

  async send(records: readonly Undecodable[]): Promise<void> {
    if (records.length === 0) return;
    try {
      this.ready ??= this.open();
      await this.ready;
      await (this.producer as Producer).send({
        topic: this.topic,
        acks: -1,
        messages: records.map((r) => ({
          key: r.message.key,
          value: r.message.value,
          headers: {
            ...withoutDlqHeaders(r.message.headers),
            [DLQ_HEADER.reason]: r.reason,
            [DLQ_HEADER.topic]: r.topic,
            [DLQ_HEADER.partition]: String(r.partition),
            [DLQ_HEADER.offset]: String(r.offset),
            [DLQ_HEADER.projection]: this.projection,
            [DLQ_HEADER.at]: String(Date.now()),
          },
        })),
      });
    } catch (error) {
      this.ready = undefined;
      const first = records[0] as Undecodable;
      throw new DeadLetterWriteError(this.topic, first, error);
    }
  }

  async close(): Promise<void> {
    await this.producer?.disconnect().catch(() => {});
    this.producer = undefined;
    this.ready = undefined;
  }

  private async open(): Promise<void> {
    const admin: Admin = this.kafka.admin();
    await admin.connect();
    try {
      if (!(await admin.listTopics()).includes(this.topic)) {
        await admin.createTopics({
          waitForLeaders: true,
          topics: [{ topic: this.topic, numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '-1' }] }],
        });
      }
    } finally {
      await admin.disconnect();
    }
    this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await this.producer.connect();
  }
}

function withoutDlqHeaders(headers: IHeaders | undefined): IHeaders {
  const kept: IHeaders = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (!name.startsWith('kes-dlq-') && value !== undefined) kept[name] = value;
  }
  return kept;
}
