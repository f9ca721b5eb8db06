import { accountModule } from '../../example/accounts/account.js';
import { partitionOf } from '../../guard/protocol/partitioner.js';
import { progress } from '../support/run.js';
import { type CommandRun, deposit } from './commandRun.js';
import { interleaved, type Measured, outcomeOf } from './measure.js';

const CATEGORY = accountModule.category;

/** One hot account, every client depositing to it: one guard, then clients alternating between two. */
export async function hotStreamPhase(run: CommandRun): Promise<void> {
  const { options } = run;
  const hotId = `hot-${run.id}`;
  await run.open([hotId]);
  const hotWorkers = (guardCount: number) =>
    Array.from({ length: options.hotClients }, (_, w) => {
      const client = run.commandsAt(run.urls[w % guardCount] as string);
      return () => outcomeOf(() => client.send(CATEGORY, hotId, 'deposit', deposit));
    });
  progress(`hot stream: ${options.hotClients} clients on ${CATEGORY}-${hotId}`);
  const probe = { cpu: run.cpu, metricClients: run.http };
  const [oneGuard, twoGuards] = (await interleaved(options, [
    ['hot stream, one guard', hotWorkers(1), probe],
    ['hot stream, two guards', hotWorkers(2), probe],
  ])) as [Measured, Measured];
  run.hot = { id: hotId, partition: partitionOf(`${CATEGORY}-${hotId}`, run.partitions), oneGuard, twoGuards };
}
