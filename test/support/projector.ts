import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logLevel } from 'kafkajs';
import type { ClickHouseEngine } from '../../pipeline/clickhouse/engine.js';
import { type KesConfig, loadConfig } from '../../pipeline/config/config.js';
import { createKafka } from '../../pipeline/kafka/kafkaClient.js';
import { ProjectorMetrics } from '../../projectors/metrics.js';
import { PROJECTIONS } from '../../projectors/readModels/registry.js';
import { ProjectorService } from '../../projectors/run/projectorService.js';
import { uniqueName } from './names.js';

/**
 * Projector settings isolated for one test: its own ClickHouse database, consumer groups and dead-letter topics,
 * reading the category topics of `topicPrefix` (a test guard's). Batches are short so tests do not wait.
 */
export function testProjectorSettings(base: KesConfig, overrides: Record<string, string> = {}): KesConfig {
  const name = uniqueName('p');
  return loadConfig({
    env: {},
    cwd: mkdtempSync(join(tmpdir(), 'kes-projector-')),
    overrides: {
      KAFKA_BROKERS: base.KAFKA_BROKERS.join(','),
      SCHEMA_REGISTRY_URL: base.SCHEMA_REGISTRY_URL,
      REDIS_URL: base.REDIS_URL,
      CLICKHOUSE_URL: base.CLICKHOUSE_URL,
      CLICKHOUSE_EMBEDDED_PATH: base.CLICKHOUSE_EMBEDDED_PATH,
      KES_TOPIC_PREFIX: base.KES_TOPIC_PREFIX,
      KES_CLICKHOUSE_DATABASE: name,
      KES_PROJECTOR_GROUP_PREFIX: `${name}.`,
      KES_DEADLETTER_PREFIX: `${name}.dlq.`,
      KES_PROJECTOR_BATCH_MS: '100',
      KES_PROJECTOR_PORT: '0',
      ...overrides,
    },
  });
}

/** Env for a `kes project` child process with the same settings. */
export function projectorEnv(config: KesConfig): Record<string, string> {
  const env: Record<string, string> = {
    KAFKA_BROKERS: config.KAFKA_BROKERS.join(','),
    SCHEMA_REGISTRY_URL: config.SCHEMA_REGISTRY_URL,
    CLICKHOUSE_EMBEDDED_PATH: config.CLICKHOUSE_EMBEDDED_PATH,
    KES_TOPIC_PREFIX: config.KES_TOPIC_PREFIX,
    KES_CLICKHOUSE_DATABASE: config.KES_CLICKHOUSE_DATABASE,
    KES_PROJECTOR_GROUP_PREFIX: config.KES_PROJECTOR_GROUP_PREFIX,
    KES_DEADLETTER_PREFIX: config.KES_DEADLETTER_PREFIX,
    KES_PROJECTOR_BATCH_MS: String(config.KES_PROJECTOR_BATCH_MS),
  };
  if (config.CLICKHOUSE_URL) env.CLICKHOUSE_URL = config.CLICKHOUSE_URL;
  return env;
}

export async function startTestProjectorService(config: KesConfig, engine: ClickHouseEngine) {
  const metrics = new ProjectorMetrics();
  const fatal: unknown[] = [];
  const service = new ProjectorService({
    settings: config,
    kafka: createKafka(config, uniqueName('projector'), { logLevel: logLevel.NOTHING }),
    engine,
    projections: PROJECTIONS,
    metrics,
    pollMs: 500,
    onFatal: (error) => fatal.push(error),
  });
  await service.start();
  return { service, metrics, fatal };
}
