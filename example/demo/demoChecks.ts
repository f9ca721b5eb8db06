import { join } from 'node:path';
import { logLevel } from 'kafkajs';
import type { ClickHouseEngine } from '../../pipeline/clickhouse/engine.js';
import type { KesConfig } from '../../pipeline/config/config.js';
import { createKafka } from '../../pipeline/kafka/kafkaClient.js';
import { openEventCatalog } from '../../pipeline/schemas/eventCatalog.js';
import { ProjectionCatalog } from '../../projectors/catalog/projectionCatalog.js';
import { HistoryWriter } from '../../verify/history/history.js';
import { type CheckReport, runCheck } from '../../verify/history/report.js';
import { readModelsCheck } from '../../verify/readModels/readModelCheck.js';
import { checkLedger, type LedgerReport } from '../check/ledgerCheck.js';
import type { BankWorkload } from './bankWorkload.js';
import type { Say } from './demoOptions.js';

export interface DemoChecks {
  /** `kes check`: the log against what clients were told, and the read models against the log. */
  check: CheckReport;
  /** The bank's rules over the log, held to the money the clients were told of. */
  ledger: LedgerReport;
}

/**
 * Writes what the clients were told as a history file (`<dir>/history.jsonl`, for `kes check --history` later) and
 * answers its path. The process manager's own appends are not in it.
 */
export async function writeHistory(dir: string, workload: BankWorkload): Promise<string> {
  const historyFile = join(dir, 'history.jsonl');
  const history = new HistoryWriter(historyFile);
  for (const attempt of workload.attempts) history.record(attempt);
  await history.close();
  return historyFile;
}

/** Runs `kes check` (with the read models) and the ledger check over this run's log. */
export async function runDemoChecks(
  config: KesConfig,
  engine: ClickHouseEngine,
  workload: BankWorkload,
  runId: string,
  say: Say,
): Promise<DemoChecks> {
  const kafka = createKafka(config, 'kes-demo', { logLevel: logLevel.NOTHING });
  say('checking the log and the read models …');
  const check = await runCheck({
    kafka,
    attempts: workload.attempts,
    topicPrefix: config.KES_TOPIC_PREFIX,
    allowUnlogged: true,
    idempotencyWindowMs: config.KES_IDEMPOTENCY_WINDOW_S * 1000,
    kafkaAddress: config.KAFKA_BROKERS.join(','),
    checks: [
      readModelsCheck(
        new ProjectionCatalog(engine, config.KES_CLICKHOUSE_DATABASE, config.KES_PROJECTOR_GROUP_PREFIX),
        { topicPrefix: config.KES_TOPIC_PREFIX, waitMs: 60_000 },
      ),
    ],
  });
  const catalog = await openEventCatalog({ registryUrl: config.SCHEMA_REGISTRY_URL, dir: config.KES_SCHEMAS_DIR });
  const ledger = await checkLedger(kafka, catalog, config.KES_TOPIC_PREFIX, {
    settled: true,
    acknowledged: workload.acknowledged,
    idPrefix: runId,
  });
  return { check, ledger };
}
