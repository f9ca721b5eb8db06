import avro, { type Type } from 'avsc';
import type { KafkaMessage } from 'kafkajs';
import { RegistryError } from '../../pipeline/errors.js';
import { decodeHeaders } from '../../pipeline/events/eventRecord.js';
import { categoryOfTopic, parseStreamName } from '../../pipeline/events/streamName.js';
import { getSchemaById } from '../../pipeline/registry/subjects.js';
import { readSchemaId } from '../../pipeline/schemas/wireFormat.js';
import type { DecodedEvent } from './decodedEvent.js';

/** A record that cannot be projected, with why; it goes to the dead-letter topic, never silently away. */
export interface Undecodable {
  topic: string;
  partition: number;
  offset: number;
  message: KafkaMessage;
  reason: string;
}

export interface DecodedRecords {
  events: DecodedEvent[];
  deadLetters: Undecodable[];
}

const WIRE_HEADER_BYTES = 5;

/**
 * Turns committed records into events. Writer schemas are fetched from the registry by id once and kept, so the
 * per-record work is synchronous. A record is a dead letter when it is not a kes event (headers), its stream does
 * not belong to its topic's category, or its value does not decode with its writer schema (or the id is unknown to
 * the registry). A registry that does not answer is not the record's fault: that error propagates as retriable and
 * the batch is retried, never dead-lettered.
 */
export class EventDecoder {
  private readonly types = new Map<number, Type>();
  private readonly unknownIds = new Map<number, string>();
  /** Types with bytes or fixed fields: only their JSON needs the (slower) replacer. */
  private readonly binaryTypes = new Set<Type>();

  constructor(
    private readonly registryUrl: string,
    private readonly topicPrefix: string,
  ) {}

  async decode(topic: string, partition: number, messages: readonly KafkaMessage[]): Promise<DecodedRecords> {
    await this.learnSchemas(messages);
    const events: DecodedEvent[] = [];
    const deadLetters: Undecodable[] = [];
    const category = categoryOfTopic(this.topicPrefix, topic);
    for (const message of messages) {
      const offset = Number(message.offset);
      const reject = (reason: string) => deadLetters.push({ topic, partition, offset, message, reason });
      if (category === undefined) {
        reject(`topic ${topic} is not a category topic (prefix ${this.topicPrefix})`);
        continue;
      }
      let headers: ReturnType<typeof decodeHeaders>;
      try {
        headers = decodeHeaders(message.headers);
      } catch (error) {
        reject(`malformed kes headers: ${(error as Error).message}`);
        continue;
      }
      if (!headers) {
        reject('missing or malformed kes headers (ce_subject, kes-version, ce_id, ce_type, ce_time, kes-hash)');
        continue;
      }
      const name = parseStreamName(headers.stream);
      if ('error' in name || name.category !== category) {
        reject(`stream '${headers.stream}' does not belong to category '${category}' of topic ${topic}`);
        continue;
      }
      if (!message.value) {
        reject('record has no value');
        continue;
      }
      const id = readSchemaId(message.value);
      if (typeof id !== 'number') {
        reject(`value is not in the Confluent wire format: ${id.error}`);
        continue;
      }
      const type = this.types.get(id);
      if (!type) {
        reject(this.unknownIds.get(id) ?? `schema id ${id} is unknown to the registry`);
        continue;
      }
      let data: unknown;
      try {
        data = type.fromBuffer(message.value.subarray(WIRE_HEADER_BYTES));
      } catch (error) {
        reject(`value does not decode with schema id ${id}: ${(error as Error).message}`);
        continue;
      }
      events.push({
        topic,
        partition,
        offset,
        stream: headers.stream,
        category,
        version: headers.version,
        eventId: headers.eventId,
        type: headers.type,
        timeMs: headers.timeMs,
        dataJson: this.binaryTypes.has(type) ? JSON.stringify(data, jsonSafe) : JSON.stringify(data),
        metadataJson: headers.metadata ? JSON.stringify(headers.metadata) : '{}',
        ...(headers.traceparent === undefined ? {} : { traceparent: headers.traceparent }),
      });
    }
    return { events, deadLetters };
  }

  /** Fetches every writer schema of the batch not seen yet; an id the registry does not know is remembered as such. */
  private async learnSchemas(messages: readonly KafkaMessage[]): Promise<void> {
    const missing = new Set<number>();
    for (const message of messages) {
      if (!message.value) continue;
      const id = readSchemaId(message.value);
      if (typeof id === 'number' && !this.types.has(id) && !this.unknownIds.has(id)) missing.add(id);
    }
    for (const id of missing) {
      let text: string;
      try {
        text = await getSchemaById(this.registryUrl, id);
      } catch (error) {
        // An unreachable or failing registry (retriable) is not the record's fault: the batch is retried.
        if (!(error instanceof RegistryError) || error.retriable) throw error;
        this.unknownIds.set(id, `schema id ${id} cannot be used: ${error.message}`);
        continue;
      }
      try {
        const type = avro.Type.forSchema(JSON.parse(text));
        this.types.set(id, type);
        if (/"(bytes|fixed)"/.test(text)) this.binaryTypes.add(type);
      } catch (error) {
        this.unknownIds.set(id, `schema id ${id} is not a usable Avro schema: ${(error as Error).message}`);
      }
    }
  }
}

/** Avro bytes and fixed decode to Buffers; in the JSON column they are base64 text rather than arrays of numbers. */
function jsonSafe(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer') {
    const data = (value as { data?: unknown }).data;
    if (Array.isArray(data)) return Buffer.from(data as number[]).toString('base64');
  }
  return value;
}
