import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandClient } from './commandClient.js';
import { GuardClient } from './guardClient.js';
import { GuardPool } from './guardPool.js';

/**
 * Clients fail over for one call and come home afterwards. Two stand-in guards (plain HTTP servers answering what
 * a guard answers) and a pool with a hand-turned clock. The defect this pins: a failed attempt used to move the
 * client itself to the next guard for good, so after any guard fault every client stayed on the survivor (the soak
 * found failpoints in a restarted guard that never fired because no client came back to it).
 */
describe('failover is per call; a recovered guard gets its clients back', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
  });

  /** A guard stand-in: `fail` decides per request whether to cut the connection. Counts the requests it answered. */
  async function standIn(name: string, fail: () => boolean): Promise<{ url: string; served: () => number }> {
    let served = 0;
    const server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        if (fail()) {
          request.socket.destroy();
          return;
        }
        served += 1;
        response.writeHead(200, { 'content-type': 'application/json' });
        const isCommand = request.url?.startsWith('/commands/');
        response.end(
          JSON.stringify(
            isCommand
              ? { stream: 'account-1', firstVersion: 0, lastVersion: 0, events: [], guard: name }
              : { stream: 'account-1', firstVersion: 0, lastVersion: 0, topic: 't', partition: 0, offset: 0 },
          ),
        );
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    return { url: `http://127.0.0.1:${port}`, served: () => served };
  }

  it('GuardClient: one call fails over, the next call after the down time goes home', async () => {
    let homeDown = true;
    const home = await standIn('home', () => homeDown);
    const other = await standIn('other', () => false);
    let now = 0;
    const pool = new GuardPool([home.url, other.url], { downMs: 1_000, now: () => now });
    const client = new GuardClient({
      url: [home.url, other.url],
      pool,
      apiKey: 'k',
      timeoutMs: 2_000,
      coalesce: false,
    });
    const append = () => client.appendToStream('account-1', [{ type: 'Opened', data: {} }], { expectedVersion: -1 });

    await append();
    expect([home.served(), other.served()]).toEqual([0, 1]);
    // Still marked down: the next call skips home without trying it.
    await append();
    expect([home.served(), other.served()]).toEqual([0, 2]);
    homeDown = false;
    now = 1_000;
    await append();
    expect([home.served(), other.served()]).toEqual([1, 2]);
  });

  it('CommandClient: the same', async () => {
    let homeDown = true;
    const home = await standIn('home', () => homeDown);
    const other = await standIn('other', () => false);
    let now = 0;
    const pool = new GuardPool([home.url, other.url], { downMs: 1_000, now: () => now });
    const client = new CommandClient({
      url: [home.url, other.url],
      pool,
      apiKey: 'k',
      timeoutMs: 2_000,
      coalesce: false,
    });

    await client.send('account', '1', 'open', {});
    expect([home.served(), other.served()]).toEqual([0, 1]);
    homeDown = false;
    now = 1_000;
    await client.send('account', '1', 'open', {});
    expect([home.served(), other.served()]).toEqual([1, 1]);
  });
});
