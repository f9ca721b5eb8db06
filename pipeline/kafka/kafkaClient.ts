import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import type { KesConfig } from '../config/config.js';

/** One place that turns config into a kafkajs client, so every part of kes talks to Kafka the same way. */
export function createKafka(
  config: Pick<KesConfig, 'KAFKA_BROKERS'>,
  clientId: string,
  overrides: Partial<KafkaConfig> = {},
): Kafka {
  return new Kafka({
    brokers: [...config.KAFKA_BROKERS],
    clientId,
    logLevel: logLevel.WARN,
    ...overrides,
  });
}
