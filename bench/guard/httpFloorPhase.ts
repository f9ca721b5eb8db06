import { measureFloor, startHttpFloor } from '../httpFloor.js';
import { CpuMeter, type CpuSnapshot, cpuRecord } from '../support/cpuMeter.js';
import { formatNumber } from '../support/figures.js';
import { summarize } from '../support/latency.js';
import { progress } from '../support/run.js';
import { type FloorPhase, type GuardRun, mostClientsOf } from './guardRun.js';

/** The same client against a server that does nothing, at the most clients: what the HTTP API costs before any work. */
export async function httpFloorPhase(run: GuardRun): Promise<void> {
  const most = mostClientsOf(run);
  if (!most) {
    progress('  no guarded phase ran: no client count for the HTTP floor');
    return;
  }
  const { options } = run;
  progress(`HTTP floor: ${most.clients} closed-loop client(s) against a do-nothing fastify server`);
  const server = await startHttpFloor();
  run.extraProcesses.push({ name: 'http floor server', pid: server.pid });
  try {
    run.floor = await run.measure(
      'the phase',
      async (): Promise<FloorPhase> => {
        let cpu0: CpuSnapshot | undefined;
        let cpu1: CpuSnapshot | undefined;
        const r = await measureFloor(server.url, server.pid, most.clients, options.warmupMs, options.durationMs, {
          onStart: () => {
            cpu0 = run.ctx.cpu.snapshot();
          },
          onEnd: () => {
            cpu1 = run.ctx.cpu.snapshot();
          },
        });
        return {
          clients: r.clients,
          requestsPerSecond: r.requestsPerSecond,
          latency: summarize(r.latencyMs),
          clientUsPerRequest: r.clientUsPerRequest,
          serverUsPerRequest: r.serverUsPerRequest,
          cpu: cpu0 && cpu1 ? cpuRecord(CpuMeter.between(cpu0, cpu1), 'bench client', 'machine (all)') : {},
        };
      },
      (x) => x.cpu,
    );
  } finally {
    server.stop();
    run.extraProcesses.length = 0;
  }
  const f = run.floor;
  progress(
    `  ${formatNumber(f.requestsPerSecond, 0)} requests/s, client ${formatNumber(f.clientUsPerRequest, 0)} µs/request, server ${formatNumber(f.serverUsPerRequest, 0)} µs/request`,
  );
}
