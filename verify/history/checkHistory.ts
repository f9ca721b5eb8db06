import { checkOk } from './answeredOk.js';
import { checkAtomicGroups } from './atomicGroups.js';
import { summarize } from './checkSummary.js';
import type { CheckOptions, CheckResult, Violation } from './checkTypes.js';
import { type CommittedEvent, inOffsetOrder } from './committedEvents.js';
import { checkDuplicateIds } from './duplicateIds.js';
import { indexEventIds } from './eventIdIndex.js';
import type { AppendAttempt } from './history.js';
import { checkIndeterminate } from './indeterminateOnce.js';
import { checkRefusalOnCommitted, indexVersions } from './refusalOnCommitted.js';
import { checkNothingWritten } from './refusedWroteNothing.js';
import { checkVersions } from './streamVersions.js';
import { checkUnlogged, reportForeign } from './unloggedEvents.js';

/**
 * The history checker: what clients were told (the history) against what Kafka committed, for the invariants 1–4
 * and 6 of the design notes. Each rule is in its own file (streamVersions, duplicateIds, answeredOk,
 * refusedWroteNothing, refusalOnCommitted, indeterminateOnce, unloggedEvents, atomicGroups); this runs them in a fixed order, which is the order of the violations. Pure:
 * no I/O, deterministic, so it is tested with hand-built and generated histories. Invariant 5 (read models) is
 * checked by a separate check plugged in beside this one (see report.ts).
 */

/** Checks a history against the committed events (in offset order per partition; sorted here if they are not). */
export function checkHistory(
  attempts: readonly AppendAttempt[],
  committed: readonly CommittedEvent[],
  options: CheckOptions = {},
): CheckResult {
  const events = inOffsetOrder(committed);
  const violations: Violation[] = [];
  const { eventsById, attemptsById, lookup, logicalAppends } = indexEventIds(attempts, events);
  const versions = indexVersions(events);

  checkVersions(events, violations);
  checkDuplicateIds(events, eventsById, attempts, attemptsById, violations);

  let indeterminateWritten = 0;
  let indeterminateNotWritten = 0;
  const window = options.idempotencyWindowMs ?? Number.POSITIVE_INFINITY;
  attempts.forEach((a, self) => {
    switch (a.outcome.status) {
      case 'ok':
        checkOk(a, attempts, attemptsById, lookup, violations);
        break;
      case 'conflict':
      case 'rejected':
        checkNothingWritten(a, self, attempts, attemptsById, lookup, window, violations);
        checkRefusalOnCommitted(a, versions, violations);
        break;
      case 'indeterminate':
        if (checkIndeterminate(a, lookup, violations)) indeterminateWritten++;
        else indeterminateNotWritten++;
        break;
    }
  });

  const atomic = checkAtomicGroups(attempts, lookup, violations);
  const unloggedEvents = checkUnlogged(events, attemptsById, options, violations);
  if (!options.allowUnlogged) reportForeign(options.foreignRecords ?? [], violations);

  const counts = { logicalAppends, indeterminateWritten, indeterminateNotWritten, unloggedEvents, ...atomic };
  return { summary: summarize(attempts, events, violations, options, counts), violations };
}
