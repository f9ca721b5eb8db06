import { parseArgs } from 'node:util';
import { UsageError } from '../../pipeline/errors.js';
import { FAULT_DESCRIPTIONS, FAULT_KINDS, type FaultKind, parseFaultKinds } from './faultSchedule.js';

/** The command line of `npm run faults:soak`, read once and checked, each bad flag named. */
export interface SoakFlags {
  appends: number;
  seconds: number | undefined;
  seed: number;
  kinds: FaultKind[];
  guards: number;
  clients: number;
  projectors: number;
  streams: number;
  faultGapMs: number;
  everyFault: boolean;
  json: boolean;
  help: boolean;
}

export const SOAK_USAGE = `npm run faults:soak -- [flags]

Guards, clients with retries, projectors and a seeded schedule of faults on private Kafka, Redis and ClickHouse,
until the clients have --appends acknowledged appends; then the history checker and the read-model check.
Exits 1 on any violation (or when the checks could not run), 2 on a bad flag.

  --appends N        stop once N appends were acknowledged (default 10000)
  --seconds N        stop the load after N seconds at the latest (the checks still run)
  --seed N           the fault schedule's seed (default: random, printed)
  --faults LIST      all, none, or kinds separated by commas (default all)
  --guards N         guard processes, 2 or 3 (default 2: more measured slower on 2 cores)
  --clients N        concurrent clients (default 24)
  --projectors N     projector processes (default 2)
  --streams N        streams written to (default 1000; 1% of them hot)
  --fault-gap N      mean seconds between faults (default 10)
  --every-fault      keep the load going until every kind of fault happened once
  --json             print the summary as JSON on stdout

Faults:
${FAULT_KINDS.map((k) => `  ${k.padEnd(24)} ${FAULT_DESCRIPTIONS[k]}`).join('\n')}`;

export function parseSoakFlags(argv: readonly string[], randomSeed: () => number): SoakFlags {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        appends: { type: 'string' },
        seconds: { type: 'string' },
        seed: { type: 'string' },
        faults: { type: 'string' },
        guards: { type: 'string' },
        clients: { type: 'string' },
        projectors: { type: 'string' },
        streams: { type: 'string' },
        'fault-gap': { type: 'string' },
        'every-fault': { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${SOAK_USAGE}`);
  }
  const int = (name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new UsageError(`--${name}: expected a whole number from ${min} to ${max}, got '${String(raw)}'`);
    }
    return n;
  };
  let kinds: FaultKind[];
  try {
    kinds = parseFaultKinds(String(values.faults ?? 'all'));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const seconds = values.seconds === undefined ? undefined : int('seconds', 0, 1);
  return {
    appends: int('appends', 10_000, 1),
    seconds,
    seed: int('seed', randomSeed(), 0, 2 ** 32 - 1),
    kinds,
    guards: int('guards', 2, 2, 3),
    clients: int('clients', 24, 1, 1_000),
    projectors: int('projectors', 2, 1, 8),
    streams: int('streams', 1_000, 1),
    faultGapMs: int('fault-gap', 10, 0, 3_600) * 1000,
    everyFault: values['every-fault'] === true,
    json: values.json === true,
    help: values.help === true,
  };
}
