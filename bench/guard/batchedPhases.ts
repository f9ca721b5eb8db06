import { GuardClient } from '../../guard/client/guardClient.js';
import { keepAliveAgent } from '../../guard/client/httpJson.js';
import { LOCAL_DEV_KEY } from '../../pipeline/config/config.js';
import { AtomicAppendError, KesError, WrongExpectedVersionError } from '../../pipeline/errors.js';
import { toHistory } from '../../verify/load/workload.js';
import { closedLoop } from '../support/closedLoop.js';
import { formatNumber } from '../support/figures.js';
import { summarize } from '../support/latency.js';
import { openLoop } from '../support/openLoop.js';
import { progress } from '../support/run.js';
import type { BatchedResult, GuardRun } from './guardRun.js';
import { type LoadContext, openWindow, type Window } from './load.js';

/**
 * Issue 13's phases of bench:guard: appends through the coalescing client (`batched`: closed loop of
 * `--batched-clients` writers, then an open loop at half the peak it reached) and atomic batches of
 * `--atomic-size` streams (`atomic`). Same streams, events and guards as the other phases; every attempt goes to
 * the history when --check is given.
 */

interface Tally {
  ok: number;
  events: number;
  conflicts: number;
  errors: number;
  latencies: number[];
}

const fmt = (n: number | undefined, digits = 1) => formatNumber(n, digits);

/** One coalescing client per guard; the attempts feed the shared stream versions and the history. */
function coalescingClients(run: GuardRun, sockets: number): GuardClient[] {
  const { ctx } = run;
  return run.guardUrls.map(
    (url) =>
      new GuardClient({
        url,
        apiKey: LOCAL_DEV_KEY,
        coalesce: { lingerMs: 1, maxAppends: 256 },
        agent: keepAliveAgent(sockets),
        // One attempt per call, like the other phases' client: an error is counted, not retried.
        maxAttempts: 1,
        onAttempt: (report) => {
          ctx.streams.observe(report);
          ctx.history?.record(toHistory('batched', report));
        },
      }),
  );
}

/** One append of one event through the coalescing client; its outcome goes to `t` when measured. */
async function appendOne(ctx: LoadContext, client: GuardClient, t: Tally | undefined): Promise<void> {
  const { stream, expected } = ctx.streams.pick();
  const started = performance.now();
  try {
    await client.appendToStream(stream, [ctx.streams.event()], { expectedVersion: expected });
    if (t) {
      t.ok += 1;
      t.events += 1;
      t.latencies.push(performance.now() - started);
    }
  } catch (error) {
    if (!(error instanceof KesError)) throw error;
    if (t) {
      if (error instanceof WrongExpectedVersionError) t.conflicts += 1;
      else t.errors += 1;
    }
  }
}

/**
 * The measured window of a closed loop whose operations count themselves: `measuring` is true between the window's
 * opening and its close (closedLoop's own `record` sees only the answer, not the call's items).
 */
function measuredGate(ctx: LoadContext): { measuring: boolean; window: () => Promise<() => Promise<Window>> } {
  const gate = {
    measuring: false,
    window: async () => {
      const close = await openWindow(ctx);
      gate.measuring = true;
      return async () => {
        gate.measuring = false;
        return close();
      };
    },
  };
  return gate;
}

const newTally = (): Tally => ({ ok: 0, events: 0, conflicts: 0, errors: 0, latencies: [] });

function resultOf(
  phase: BatchedResult['phase'],
  clients: number,
  t: Tally,
  window: Window,
  seconds: number,
  appends: number,
): BatchedResult {
  return {
    phase,
    clients,
    appendsPerSecond: appends / seconds,
    eventsPerSecond: t.events / seconds,
    latency: summarize(t.latencies),
    ok: t.ok,
    conflicts: t.conflicts,
    errors: t.errors,
    window,
  };
}

export async function batchedPhase(run: GuardRun): Promise<void> {
  const { options, ctx } = run;
  const c = options.batchedClients;
  const clients = coalescingClients(run, 64);
  progress(`batched, ${c} closed-loop writers through the coalescing client (linger 1 ms, at most 256 per request)`);
  const closed = await run.measure(
    'the phase',
    async () => {
      const t = newTally();
      const gate = measuredGate(ctx);
      const window = await closedLoop({
        workers: c,
        op: (w) => appendOne(ctx, clients[w % clients.length] as GuardClient, gate.measuring ? t : undefined),
        record: () => {},
        warmupMs: options.warmupMs,
        durationMs: options.durationMs,
        window: gate.window,
      });
      return resultOf('batched', c, t, window, window.elapsedMs / 1000, t.ok);
    },
    (x) => x.window.cpu,
  );
  run.batched.push(closed);
  progress(
    `  ${fmt(closed.appendsPerSecond, 0)} appends/s, p50 ${fmt(closed.latency.p50)} ms, p99 ${fmt(closed.latency.p99)} ms, cpu ${JSON.stringify(closed.window.cpu)}`,
  );

  const rate = closed.appendsPerSecond / 2;
  if (rate <= 0) return;
  progress(`batched, open loop at half that peak: ${fmt(rate, 0)} appends/s, pool ${options.pool}`);
  const half = await run.measure(
    'the phase',
    async () => {
      const t = newTally();
      const o = await openLoop({
        rate,
        pool: options.pool,
        warmupMs: options.warmupMs,
        durationMs: options.durationMs,
        op: async (index) => {
          const { stream, expected } = ctx.streams.pick();
          const client = clients[index % clients.length] as GuardClient;
          return client.appendToStream(stream, [ctx.streams.event()], { expectedVersion: expected }).then(
            () => 'ok' as const,
            (error: unknown) =>
              error instanceof WrongExpectedVersionError ? ('conflict' as const) : ('error' as const),
          );
        },
        done: (outcome, latency, measured) => {
          if (!measured) return;
          if (outcome === 'ok') {
            t.ok += 1;
            t.events += 1;
            t.latencies.push(latency);
          } else if (outcome === 'conflict') t.conflicts += 1;
          else t.errors += 1;
        },
        window: () => openWindow(ctx),
      });
      const r = resultOf('batched, half peak', options.pool, t, o.window as Window, options.durationMs / 1000, t.ok);
      return { ...r, targetRate: rate };
    },
    (x) => x.window.cpu,
  );
  run.batched.push(half);
  progress(
    `  ${fmt(half.appendsPerSecond, 0)} appends/s, p50 ${fmt(half.latency.p50)} ms, p99 ${fmt(half.latency.p99)} ms`,
  );
}

export async function atomicPhase(run: GuardRun): Promise<void> {
  const { options, ctx } = run;
  const k = options.atomicSize;
  const c = options.atomicClients;
  const clients = coalescingClients(run, c + 8);
  progress(`atomic, ${c} closed-loop writers, each an atomic batch of ${k} streams at a time`);
  const r = await run.measure(
    'the phase',
    async () => {
      const t = newTally();
      const gate = measuredGate(ctx);
      let items = 0;
      const window = await closedLoop({
        workers: c,
        op: async (w) => {
          const picked = new Map<string, ReturnType<LoadContext['streams']['pick']>>();
          while (picked.size < k) {
            const p = ctx.streams.pick();
            picked.set(p.stream, p);
          }
          const batch = [...picked.values()].map((p) => ({
            stream: p.stream,
            events: [ctx.streams.event()],
            expectedVersion: p.expected,
          }));
          const started = performance.now();
          const client = clients[w % clients.length] as GuardClient;
          const counted = gate.measuring;
          try {
            await client.appendAtomically(batch);
            if (counted) {
              t.ok += 1;
              t.events += k;
              items += k;
              t.latencies.push(performance.now() - started);
            }
          } catch (error) {
            if (!(error instanceof KesError)) throw error;
            if (!counted) return;
            if (error instanceof AtomicAppendError && error.cause instanceof WrongExpectedVersionError)
              t.conflicts += 1;
            else t.errors += 1;
          }
        },
        record: () => {},
        warmupMs: options.warmupMs,
        durationMs: options.durationMs,
        window: gate.window,
      });
      return resultOf('atomic', c, t, window, window.elapsedMs / 1000, items);
    },
    (x) => x.window.cpu,
  );
  run.batched.push(r);
  progress(
    `  ${fmt(r.appendsPerSecond, 0)} appends/s in ${fmt(r.ok / (r.window.elapsedMs / 1000), 0)} batches/s, p50 ${fmt(r.latency.p50)} ms, p99 ${fmt(r.latency.p99)} ms per batch`,
  );
}

/** CPU µs per appended event, per process, from a window's CPU (% of one core) and its event rate. */
export function cpuUsPerEvent(cpu: Record<string, number>, eventsPerSecond: number): Record<string, number> {
  const out: Record<string, number> = {};
  if (!(eventsPerSecond > 0)) return out;
  for (const [name, percent] of Object.entries(cpu)) {
    if (name === 'others' || name.startsWith('machine')) continue;
    out[name] = Math.round((percent * 1e4) / eventsPerSecond);
  }
  return out;
}
