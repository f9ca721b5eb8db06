/**
 * The floor of the HTTP layer on this machine, for docs/guard-benchmark.md: a fastify server in its own process that
 * answers every append at once with a guard-shaped JSON answer (no validation, no Redis, no Kafka), loaded by the
 * same client as `npm run bench:guard` (verify/load/httpLoad.ts, closed loop). Whatever the guard does, it cannot
 * answer faster than this, and the CPU per request of both sides is what the HTTP API costs before any work.
 *
 *   node dist/bench/httpFloor.js [clients…]        (default 1 16 256; 2 s warm-up, 5 s measured each)
 */
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { HttpLoadClient, type LoadAttempt } from '../verify/load/httpLoad.js';
import { closedLoop } from './support/closedLoop.js';
import { statCpuSeconds } from './support/machine.js';

/** CPU seconds of a process so far (the system's clock ticks per second, see machine.ts). */
function cpuSeconds(pid: number): number {
  const s = statCpuSeconds(`/proc/${pid}/stat`);
  if (s === undefined) throw new Error(`no /proc/${pid}/stat: the http floor server is gone`);
  return s;
}

async function server(): Promise<void> {
  const app = Fastify({ logger: false });
  app.post<{ Params: { stream: string } }>('/streams/:stream/events', async (request) => ({
    stream: request.params.stream,
    firstVersion: 0,
    lastVersion: 0,
    topic: 'kes.events.account',
    partition: 3,
    offset: 12345,
  }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  process.send?.(typeof address === 'object' && address ? address.port : 0);
}

/** Starts the do-nothing server in a process of its own; `stop` ends it (SIGTERM, by its pid). */
export async function startHttpFloor(): Promise<{ url: string; pid: number; stop(): void }> {
  const child = fork(fileURLToPath(import.meta.url), ['--server'], { stdio: 'inherit' });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve(Number(m)));
    child.once('exit', (code) => reject(new Error(`http floor server exited (${code}) before listening`)));
  });
  return { url: `http://127.0.0.1:${port}`, pid: child.pid as number, stop: () => child.kill('SIGTERM') };
}

export interface FloorResult {
  clients: number;
  requestsPerSecond: number;
  /** CPU per answered request, µs. */
  clientUsPerRequest: number;
  serverUsPerRequest: number;
  clientCpuPercent: number;
  serverCpuPercent: number;
  latencyMs: number[];
}

/** `clients` closed-loop clients against the floor server: warm-up, then a measured window. */
export async function measureFloor(
  url: string,
  pid: number,
  clients: number,
  warmupMs: number,
  durationMs: number,
  window: { onStart?: () => void; onEnd?: () => void } = {},
): Promise<FloorResult> {
  const client = new HttpLoadClient({ url, apiKey: 'none', maxSockets: clients + 8 });
  let ok = 0;
  const latencyMs: number[] = [];
  const append = () =>
    client.append(`account-${Math.floor(Math.random() * 10_000)}`, 'no_stream', [
      { id: randomUUID(), type: 'MoneyDeposited', data: { amount: 100, currency: 'EUR', transferId: null } },
    ]);
  const measured = await closedLoop({
    workers: clients,
    op: append,
    record: (a: LoadAttempt, latency) => {
      if (a.outcome.status !== 'ok') return;
      ok += 1;
      latencyMs.push(latency);
    },
    warmupMs,
    durationMs,
    window: async () => {
      const own0 = process.cpuUsage();
      const server0 = cpuSeconds(pid);
      const t0 = performance.now();
      window.onStart?.();
      return async () => {
        window.onEnd?.();
        const own = process.cpuUsage(own0);
        return {
          seconds: (performance.now() - t0) / 1000,
          clientCpu: (own.user + own.system) / 1e6,
          serverCpu: cpuSeconds(pid) - server0,
        };
      };
    },
  });
  client.close();
  const { seconds, clientCpu, serverCpu } = measured;
  return {
    clients,
    requestsPerSecond: ok / seconds,
    clientUsPerRequest: (1e6 * clientCpu) / ok,
    serverUsPerRequest: (1e6 * serverCpu) / ok,
    clientCpuPercent: (100 * clientCpu) / seconds,
    serverCpuPercent: (100 * serverCpu) / seconds,
    latencyMs,
  };
}

async function cli(counts: number[]): Promise<void> {
  const floor = await startHttpFloor();
  try {
    for (const c of counts) {
      const r = await measureFloor(floor.url, floor.pid, c, 2_000, 5_000);
      process.stdout.write(
        `${String(c).padStart(4)} clients: ${Math.round(r.requestsPerSecond)} req/s; ` +
          `client ${Math.round(r.clientCpuPercent)}% of a core (${Math.round(r.clientUsPerRequest)} µs/req), ` +
          `server ${Math.round(r.serverCpuPercent)}% (${Math.round(r.serverUsPerRequest)} µs/req)\n`,
      );
    }
  } finally {
    floor.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--server')) {
    await server();
  } else {
    const counts = process.argv.slice(2).map(Number);
    await cli(counts.length > 0 ? counts : [1, 16, 256]);
  }
}
