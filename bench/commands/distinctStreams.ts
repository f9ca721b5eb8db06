import { randomUUID } from 'node:crypto';
import { accountModule } from '../../example/accounts/account.js';
import { LOCAL_DEV_KEY } from '../../pipeline/config/config.js';
import { HttpLoadClient } from '../../verify/load/httpLoad.js';
import { progress } from '../support/run.js';
import { type CommandRun, deposit, depositEvent } from './commandRun.js';
import { interleaved, type Measured, outcomeOf } from './measure.js';

const CATEGORY = accountModule.category;

/** Raw appends (GuardClient, node:http) against commands, each client on streams of its own, at guard 0. */
export async function distinctStreamsPhase(run: CommandRun): Promise<void> {
  const { options } = run;
  const url0 = run.urls[0] as string;
  const load = new HttpLoadClient({ url: url0, apiKey: LOCAL_DEV_KEY, maxSockets: Math.max(...options.clients) + 8 });
  run.closers.push(() => load.close());
  for (const c of options.clients) {
    const streamIds = (kind: string) =>
      Array.from({ length: c }, (_, w) =>
        Array.from({ length: options.streamsPerClient }, (_, k) => `${kind}${c}-w${w}-s${k}`),
      );
    const cmdIds = streamIds('cmd');
    progress(`distinct streams, ${c} client(s): opening ${c * options.streamsPerClient} accounts for the commands`);
    await run.open(cmdIds.flat());
    const rawWorkers = streamIds('raw').map((ids) => {
      const client = run.appendsAt(url0);
      let k = 0;
      return () =>
        outcomeOf(async () => {
          await client.appendToStream(`${CATEGORY}-${ids[k++ % ids.length]}`, [depositEvent], {
            expectedVersion: 'any',
          });
          return { attempts: 1 };
        });
    });
    const nodeWorkers = streamIds('node').map((ids) => {
      let k = 0;
      return () =>
        outcomeOf(async () => {
          const stream = `${CATEGORY}-${ids[k++ % ids.length]}`;
          const a = await load.append(stream, 'any', [{ id: randomUUID(), ...depositEvent }]);
          if (a.outcome.status !== 'ok') throw new Error(`append to ${stream}: ${JSON.stringify(a.outcome)}`);
          return { attempts: 1 };
        });
    });
    const cmdWorkers = cmdIds.map((ids) => {
      const client = run.commandsAt(url0);
      let k = 0;
      return () => outcomeOf(() => client.send(CATEGORY, ids[k++ % ids.length] as string, 'deposit', deposit));
    });
    const probe = { cpu: run.cpu, metricClients: run.http.slice(0, 1) };
    const [raw, rawNodeHttp, command] = (await interleaved(options, [
      [`raw append (GuardClient), ${c} client(s)`, rawWorkers, probe],
      [`raw append (node:http), ${c} client(s)`, nodeWorkers, probe],
      [`command, ${c} client(s)`, cmdWorkers, probe],
    ])) as [Measured, Measured, Measured];
    // guard 1 idles through this phase: only guard 0's CPU is the guard's cost per operation
    const on0 = (m: Measured): Measured => ({ ...m, guardsUsed: ['guard 0'] });
    run.distinct.push({ clients: c, raw: on0(raw), rawNodeHttp: on0(rawNodeHttp), command: on0(command) });
  }
}
