import { parseFlags } from '../../bench/projector/options.js';
import { preloadPhase } from '../../bench/projector/preload.js';
import type { ProjectorRun } from '../../bench/projector/projectorRun.js';
import { CpuMeter } from '../../bench/support/cpuMeter.js';
import type { KesConfig } from '../../pipeline/config/config.js';
import type { LabSpace } from './labSpace.js';

export interface Preloaded {
  topic: string;
  events: number;
  /** End offset of each partition: where a consume of the whole topic stops. */
  ends: Map<number, number>;
  seconds: number;
  eventsPerSecond: number;
}

/**
 * Streams the pre-load spreads its events over: enough that a stream's versions do not pile up in one transaction,
 * few enough for small logs to have several events per stream, as a real log does.
 */
const STREAMS = 10_000;

/**
 * bench:projector's pre-load: a fresh category topic filled with `events` committed events as the guard writes
 * them (transactional producers, kes headers, Avro values). Worker threads only run from the compiled code, where
 * their module exists; from the sources (the tests) the producers share this thread.
 */
export async function preloadTopic(args: {
  space: LabSpace;
  config: KesConfig;
  events: number;
  partitions: number;
  runDir: string;
}): Promise<Preloaded> {
  const threads = import.meta.url.endsWith('.js') ? 2 : 1;
  const options = parseFlags([
    'node',
    'lab-projection',
    ...['--events', String(args.events), '--partitions', String(args.partitions)],
    ...['--streams', String(Math.min(STREAMS, Math.max(10, Math.floor(args.events / 10))))],
    ...['--preload-threads', String(threads)],
  ]);
  const topic = `${args.config.KES_TOPIC_PREFIX}${args.space.category}`;
  const run: ProjectorRun = {
    id: args.space.namespace,
    namespace: args.space.namespace,
    category: args.space.category,
    runDir: args.runDir,
    options,
    config: args.config,
    freshConfig: args.config,
    topic,
    kafka: args.space.kafka,
    cpu: new CpuMeter(() => []),
    accounted: [],
    profiler: undefined,
    engine: () => Promise.reject(new Error('the pre-load needs no engine')),
    databases: [],
    groups: [],
    closers: [],
    measure: (_label, once) => once(1, undefined),
  };
  await preloadPhase(run);
  if (!run.preload || !run.ends) throw new Error(`the pre-load of ${topic} left no figures`);
  return {
    topic,
    events: run.preload.events,
    ends: run.ends,
    seconds: run.preload.seconds,
    eventsPerSecond: run.preload.eventsPerSecond,
  };
}
