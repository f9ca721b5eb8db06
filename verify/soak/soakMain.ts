import { randomInt } from 'node:crypto';
import { loadConfig } from '../../pipeline/config/config.js';
import { UsageError } from '../../pipeline/errors.js';
import { runSoak } from './runSoak.js';
import { parseSoakFlags, SOAK_USAGE } from './soakFlags.js';
import { renderSoakSummary, soakPassed } from './soakSummary.js';

/**
 * `npm run faults:soak -- --appends N`: progress on stderr while it runs, the summary on stdout (text or --json).
 * Exit 0 when the checks found nothing, 1 on a violation or when they could not run, 2 on a bad flag.
 */
async function main(): Promise<number> {
  const flags = parseSoakFlags(process.argv.slice(2), () => randomInt(0, 2 ** 32 - 1));
  if (flags.help) {
    process.stdout.write(`${SOAK_USAGE}\n`);
    return 0;
  }
  // The shared stack's schema registry (the soak never breaks it); Kafka, Redis and ClickHouse are its own.
  const { SCHEMA_REGISTRY_URL } = loadConfig();
  const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
  log(
    `soak: ${flags.appends} acknowledged appends${flags.seconds ? ` (at most ${flags.seconds} s of load)` : ''}, seed ${flags.seed}, ` +
      `${flags.guards} guards, ${flags.clients} clients, ${flags.projectors} projectors, ${flags.streams} streams, ` +
      `a fault every ${flags.faultGapMs / 1000} s on average from: ${flags.kinds.join(', ') || 'none'}`,
  );
  // The first SIGINT or SIGTERM ends the load and still checks; a second one leaves at once.
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) process.exit(130);
    log(`${signal}: ending the load (again to leave at once, without stopping the services)`);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const { summary, historyPath } = await runSoak({
    ...flags,
    schemaRegistryUrl: SCHEMA_REGISTRY_URL,
    stop: stop.signal,
    log,
  });
  process.stdout.write(
    flags.json
      ? `${JSON.stringify({ ...summary, historyPath }, null, 2)}\n`
      : `${renderSoakSummary(summary)}\nhistory: ${historyPath}\n`,
  );
  return soakPassed(summary) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
