import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Expected } from '../../guard/append/expectedVersion.js';
import { GuardClient } from '../../guard/client/guardClient.js';
import { GuardPool } from '../../guard/client/guardPool.js';
import { WrongExpectedVersionError } from '../../pipeline/errors.js';
import type { HistoryWriter } from '../../verify/history/history.js';
import { defaultEvent, toHistory } from '../../verify/load/workload.js';

/** What the writers of one point did. */
export interface HotStreamTally {
  /** Logical appends written within the measured time: one per decision that made it, whatever it took. */
  successes: number;
  /** 409 wrong_expected_version answers within the measured time: each a decision thrown away and made again. */
  conflicts: number;
  /** Logical appends under way when the time was up and written within the grace (their latency counts). */
  late: number;
  /** Logical appends that ended in another error (503s past the client's retries, timeouts, refusals). */
  failures: number;
  /** Logical appends still losing when the point ended plus its grace: not counted as successes. */
  abandoned: number;
  /** HTTP attempts, conflicts and the client's own retries included. */
  attempts: number;
  /** Per success (late ones too), from its first try to the answer that wrote it, conflicts and retries included (ms). */
  latenciesMs: number[];
  /** The measured time, which the rates divide by (the grace is not in it). */
  elapsedMs: number;
}

/**
 * `writers` clients doing read-decide-append on one stream for `durationMs`, spread round robin over `urls`. Each
 * appends on the version it last saw; a 409 names the stream's actual version, which the writer adopts (the read a
 * real writer would make before deciding again) and tries again with a new event. A logical append under way when
 * the time is up may finish within `graceMs` (its latency counts, not its success: the rates are over the measured time). Every attempt goes to `history` for the checker.
 * `stop` ends the run when it is aborted: `durationMs` is then the longest it may last.
 */
export async function runHotStreamWriters(args: {
  urls: readonly string[];
  apiKey: string;
  stream: string;
  writers: number;
  durationMs: number;
  graceMs?: number;
  history: HistoryWriter;
  clientPrefix: string;
  stop?: AbortSignal;
}): Promise<HotStreamTally> {
  const tally: HotStreamTally = {
    successes: 0,
    conflicts: 0,
    late: 0,
    failures: 0,
    abandoned: 0,
    attempts: 0,
    latenciesMs: [],
    elapsedMs: 0,
  };
  const started = Date.now();
  const graceMs = args.graceMs ?? 3_000;
  let deadline = started + args.durationMs;
  let giveUpAt = deadline + graceMs;
  args.stop?.addEventListener(
    'abort',
    () => {
      deadline = Math.min(deadline, Date.now());
      giveUpAt = deadline + graceMs;
    },
    { once: true },
  );
  const pool = new GuardPool(args.urls);

  const writer = async (w: number) => {
    const name = `${args.clientPrefix}${w}`;
    const client = new GuardClient({
      url: args.urls,
      pool,
      preferred: w % args.urls.length,
      apiKey: args.apiKey,
      // Each writer is a client of its own: its appends go alone, as independent services' would.
      coalesce: false,
      onAttempt: (report) => {
        tally.attempts += 1;
        args.history.record(toHistory(name, report));
      },
    });
    let seen = -1;
    let n = 0;
    while (Date.now() < deadline) {
      const t0 = performance.now();
      for (;;) {
        if (Date.now() > giveUpAt) {
          tally.abandoned += 1;
          return;
        }
        const expectedVersion: Expected = seen < 0 ? 'no_stream' : seen;
        try {
          const result = await client.appendToStream(
            args.stream,
            [{ ...defaultEvent(args.stream, n++), id: randomUUID() }],
            {
              expectedVersion,
            },
          );
          tally.latenciesMs.push(performance.now() - t0);
          if (Date.now() <= deadline) tally.successes += 1;
          else tally.late += 1;
          seen = result.lastVersion;
          break;
        } catch (error) {
          if (!(error instanceof WrongExpectedVersionError)) {
            tally.failures += 1;
            break;
          }
          if (Date.now() <= deadline) tally.conflicts += 1;
          seen = error.actual;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: args.writers }, (_, w) => writer(w)));
  tally.elapsedMs = Math.min(Date.now(), deadline) - started;
  return tally;
}
