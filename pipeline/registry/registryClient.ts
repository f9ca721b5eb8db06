import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { KesConfig } from '../config/config.js';

/** A client of the Confluent-compatible registry API (Apicurio's ccompat or Confluent's own). */
export function createRegistry(config: Pick<KesConfig, 'SCHEMA_REGISTRY_URL'>): SchemaRegistry {
  return new SchemaRegistry({ host: config.SCHEMA_REGISTRY_URL });
}
