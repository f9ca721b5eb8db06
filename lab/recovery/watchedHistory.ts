import { type AppendAttempt, HistoryWriter } from '../../verify/history/history.js';

/**
 * The history log, kept in memory too: the experiment waits on what clients are being told (the first write after
 * a wipe) and measures windows from it while the log goes to disk for the checker.
 */
export class WatchedHistory extends HistoryWriter {
  readonly attempts: AppendAttempt[] = [];

  override record(a: AppendAttempt): void {
    super.record(a);
    this.attempts.push(a);
  }
}
