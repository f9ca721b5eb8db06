import type { CommandClient } from '../../guard/client/commandClient.js';
import type { TransferState } from '../transfers/transfer.js';
import type { Say } from './demoOptions.js';
import type { ProjectorLag } from './projectorLag.js';

export interface Drain {
  /** Transfers by final status (completed, failed), and `unfinished` if some never finished. */
  byStatus: Record<string, number>;
  unfinished: number;
  seconds: number;
}

/**
 * After the workload: lets the process manager finish the transfers in flight, and the projector catch up (lag 0;
 * the checks find it out if it never does). Stops reading the projector's lag.
 */
export async function waitForDrain(
  client: CommandClient,
  transfers: readonly string[],
  lag: ProjectorLag,
  say: Say,
): Promise<Drain> {
  const began = Date.now();
  const states = await waitForTransfers(client, transfers, say);
  await lag.caughtUp(120_000);
  lag.stop();
  return { ...states, seconds: (Date.now() - began) / 1000 };
}

/**
 * Waits until every transfer of the run is completed or failed. Transfers finish roughly in the order they were
 * requested, so each round reads states from the oldest unfinished one on and stops at the first few still in flight:
 * a few dozen reads a round, not one per transfer.
 */
async function waitForTransfers(
  client: CommandClient,
  ids: readonly string[],
  say: Say,
  timeoutMs = 120_000,
): Promise<{ byStatus: Record<string, number>; unfinished: number }> {
  const byStatus: Record<string, number> = {};
  let pending = [...ids];
  const deadline = Date.now() + timeoutMs;
  let said = Date.now();
  while (pending.length > 0 && Date.now() < deadline) {
    const still: string[] = [];
    let i = 0;
    while (i < pending.length && still.length < 16) {
      const chunk = pending.slice(i, i + 16);
      i += chunk.length;
      const states = await Promise.all(chunk.map((t) => client.state<TransferState>('transfer', t)));
      states.forEach(({ state }, j) => {
        if (state.status === 'completed' || state.status === 'failed') {
          byStatus[state.status] = (byStatus[state.status] ?? 0) + 1;
        } else still.push(chunk[j] as string);
      });
    }
    pending = [...still, ...pending.slice(i)];
    if (pending.length > 0) {
      if (Date.now() - said > 5_000) {
        say(`waiting for ${pending.length} transfer(s) in flight …`);
        said = Date.now();
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  if (pending.length > 0) byStatus.unfinished = pending.length;
  return { byStatus, unfinished: pending.length };
}
