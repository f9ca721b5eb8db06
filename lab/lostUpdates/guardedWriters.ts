import type { GuardClient } from '../../guard/client/guardClient.js';
import { WrongExpectedVersionError } from '../../pipeline/errors.js';
import type { AppendAttempt } from '../../verify/history/history.js';
import { toHistory } from '../../verify/load/workload.js';

/** What one guarded writer knows of a stream: the version and balance it last read. */
export interface Known {
  version: number;
  balance: number;
}

/**
 * One guarded read-decide-append: read the stream from where this writer left off, decide "balance + 1", append with
 * the version it read as the expected version. A conflict means another writer got there first: read again and
 * decide again. Answers how many conflicts it met; every attempt goes to `history`.
 */
export async function guardedIncrement(
  client: GuardClient,
  stream: string,
  known: Map<string, Known>,
  clientName: string,
  history: AppendAttempt[],
): Promise<{ conflicts: number }> {
  let conflicts = 0;
  for (;;) {
    const state = known.get(stream) ?? { version: -1, balance: 0 };
    const page = await client.readStream(stream, { fromVersion: state.version + 1, limit: 1000 });
    for (const e of page.events) {
      const after = Number(e.metadata?.balanceAfter);
      state.version = e.version;
      state.balance = Number.isFinite(after) ? after : state.balance + 1;
    }
    known.set(stream, state);
    try {
      const result = await client.appendToStream(
        stream,
        [
          {
            type: 'MoneyDeposited',
            data: { amount: 1, currency: 'EUR', transferId: null },
            metadata: { balanceAfter: state.balance + 1 },
          },
        ],
        {
          expectedVersion: state.version < 0 ? 'no_stream' : state.version,
          onAttempt: (report) => history.push(toHistory(clientName, report)),
        },
      );
      known.set(stream, { version: result.lastVersion, balance: state.balance + 1 });
      return { conflicts };
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError)) throw error;
      conflicts++;
    }
  }
}
