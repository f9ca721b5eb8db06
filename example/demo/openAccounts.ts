import { CommandClient } from '../../guard/client/commandClient.js';
import { GuardPool } from '../../guard/client/guardPool.js';
import { BankWorkload } from './bankWorkload.js';
import type { DemoOptions, Say } from './demoOptions.js';
import type { DemoService } from './demoServices.js';

export interface Tellers {
  /** The bank's workload, its accounts open, ready to run. */
  workload: BankWorkload;
  /** A teller's client (guard-1 first), for reading the transfers' states afterwards. */
  client: CommandClient;
}

/**
 * The bank's tellers: one client per guard, each falling back to the other guards when its own does not answer, and
 * the workload over them; opens the run's accounts.
 */
export async function openAccounts(
  guards: readonly DemoService[],
  tellerKey: string,
  runId: string,
  options: DemoOptions,
  say: Say,
): Promise<Tellers> {
  const urls = guards.map((g) => g.url);
  // One pool for all tellers: a guard that stops answering is skipped by every client after the first timeout.
  const pool = new GuardPool(urls);
  const clients = urls.map((_, i) => new CommandClient({ url: urls, pool, preferred: i, apiKey: tellerKey }));
  const workload = new BankWorkload({
    clients,
    runId,
    accounts: options.accounts,
    concurrency: options.concurrency,
    durationMs: options.durationS * 1000,
    rate: options.rate,
  });
  say(`opening ${options.accounts} accounts (run ${runId}) …`);
  await workload.setup();
  return { workload, client: clients[0] as CommandClient };
}
