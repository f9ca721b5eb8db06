import type { Kafka } from 'kafkajs';
import type { Violation } from '../../verify/history/checkTypes.js';
import { runCheck } from '../../verify/history/report.js';

/** What the history checker said about one run, as the lab reports it. */
export interface RunVerdict {
  violations: Violation[];
  attempts: number;
  committedEvents: number;
  /** Committed events written outside the clients on purpose (a pre-load), left out of the verdict. */
  excludedUnlogged: number;
}

/**
 * `kes check` over a run: every attempt the clients logged against everything committed under the run's topic
 * prefix. `preloaded` names streams filled by a producer rather than by logged appends (a log pre-loaded to
 * rebuild from): their events are expected to be unlogged, and only that violation is left out for them.
 */
export async function checkRun(args: {
  kafka: Kafka;
  historyPath: string;
  topicPrefix: string;
  preloaded?: (stream: string) => boolean;
}): Promise<RunVerdict> {
  const report = await runCheck({ kafka: args.kafka, historyPath: args.historyPath, topicPrefix: args.topicPrefix });
  const preloaded = args.preloaded ?? (() => false);
  const excused = (v: Violation) => v.invariant === 'unlogged' && v.stream !== undefined && preloaded(v.stream);
  return {
    violations: report.violations.filter((v) => !excused(v)),
    attempts: report.summary.attempts,
    committedEvents: report.summary.committedEvents,
    excludedUnlogged: report.violations.filter(excused).reduce((n, v) => n + (v.eventIds?.length ?? 0), 0),
  };
}
