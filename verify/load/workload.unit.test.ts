import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runWorkload } from './workload.js';

/**
 * A load stopped by its signal gives appends still in flight `graceMs`, as one that reaches its duration does. Before,
 * they kept the load open for the rest of its duration: a fault test that ends its load when the faults are over
 * (a long duration as a cap) then waited out the cap behind one append to a guard that never answered.
 */
describe('runWorkload stopped by its signal', () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.closeAllConnections();
    server?.close();
  });

  it('stops retrying the appends in flight after graceMs, not at the end of its duration', async () => {
    // A guard that takes every request and never answers.
    server = createServer(() => {});
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 200);
    const started = Date.now();
    const stats = await runWorkload({
      urls: [url],
      apiKey: 'k',
      category: 'account',
      streams: 4,
      concurrency: 2,
      durationMs: 600_000,
      // Each attempt times out and is retried; only giving up ends the retries.
      timeoutMs: 500,
      maxAttempts: 1_000,
      graceMs: 300,
      signal: stop.signal,
    });
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(stats.appends).toBe(2);
    expect(stats.written).toBe(0);
    expect(stats.unknown + stats.rejected).toBe(2);
  });
});
