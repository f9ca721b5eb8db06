import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { AtomicAppendError, WrongExpectedVersionError } from '../../pipeline/errors.js';
import type { AttemptReport } from './appendTypes.js';
import { GuardClient } from './guardClient.js';

/**
 * The coalescing client against a stand-in guard that speaks the batch contract (`POST /appends`, docs/guard.md):
 * concurrent calls share requests, each caller gets its own answer, retries carry the same ids and only the items
 * that need them. The real guard is in coalescingClient.int.test.ts.
 */
interface Item {
  stream: string;
  expectedVersion: unknown;
  events: { id: string; type: string }[];
}
interface Seen {
  path: string;
  atomic?: boolean;
  items: Item[];
}
type Decide = (item: Item, seen: number) => Record<string, unknown>;

const written = (item: Item) => ({
  status: 200,
  stream: item.stream,
  firstVersion: 0,
  lastVersion: item.events.length - 1,
  topic: 'kes.events.account',
  partition: 0,
  offset: 0,
});

describe('the coalescing guard client', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
  });

  async function standIn(decide: Decide, whole?: (seen: Seen) => { status: number; body: unknown } | undefined) {
    const requests: Seen[] = [];
    const timesSeen = new Map<string, number>();
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>;
        const path = request.url ?? '';
        const items: Item[] =
          path === '/appends'
            ? (body.appends as Item[])
            : [{ ...(body as unknown as Item), stream: decodeURIComponent(path.split('/')[2] ?? '') }];
        const seen: Seen = { path, items, ...(path === '/appends' ? { atomic: body.atomic === true } : {}) };
        requests.push(seen);
        const answer = (status: number, json: unknown) => {
          response.writeHead(status, { 'content-type': 'application/json' });
          response.end(JSON.stringify(json));
        };
        const w = whole?.(seen);
        if (w) return answer(w.status, w.body);
        const results = items.map((item) => {
          const key = item.events[0]?.id ?? '';
          const n = (timesSeen.get(key) ?? 0) + 1;
          timesSeen.set(key, n);
          return decide(item, n);
        });
        if (path !== '/appends') {
          const { status, ...rest } = results[0] as { status: number };
          return answer(status, rest);
        }
        if (seen.atomic) {
          const failing = results.find((r) => r.status !== 200);
          if (failing) {
            return answer(failing.status as number, {
              results: results.map((r) =>
                r.status === 200 ? { status: 409, error: 'batch_aborted', message: 'aborted with the batch' } : r,
              ),
            });
          }
        }
        answer(200, { results });
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    return { url: `http://127.0.0.1:${port}`, requests };
  }

  it('concurrent appends share requests; each caller gets its own result or its own typed error', async () => {
    const guard = await standIn((item) =>
      item.stream === 'account-7'
        ? { status: 409, error: 'wrong_expected_version', stream: item.stream, expected: 3, actual: 5, message: 'x' }
        : written(item),
    );
    const client = new GuardClient({ url: guard.url, apiKey: 'k', coalesce: { lingerMs: 5, maxAppends: 16 } });
    const calls = Array.from({ length: 40 }, (_, i) =>
      client.appendToStream(`account-${i}`, [{ type: 'Opened', data: { i } }], { expectedVersion: 3 }),
    );
    const settled = await Promise.allSettled(calls);
    settled.forEach((s, i) => {
      if (i === 7) {
        expect(s.status).toBe('rejected');
        const error = (s as PromiseRejectedResult).reason as WrongExpectedVersionError;
        expect(error).toBeInstanceOf(WrongExpectedVersionError);
        expect([error.stream, error.expected, error.actual]).toEqual(['account-7', 3, 5]);
      } else {
        expect(s.status).toBe('fulfilled');
        expect((s as PromiseFulfilledResult<{ stream: string }>).value.stream).toBe(`account-${i}`);
      }
    });
    expect(guard.requests.every((r) => r.path === '/appends' && r.atomic === false)).toBe(true);
    expect(guard.requests.map((r) => r.items.length)).toEqual([16, 16, 8]);
  });

  it('an item whose outcome is unknown is retried alone with the same ids; definite answers are not resent', async () => {
    const guard = await standIn((item, seen) =>
      item.stream === 'account-1' && seen === 1
        ? {
            status: 500,
            error: 'outcome_unknown',
            message: 'stream account-1: outcome unknown (commit timed out); retry with the same event ids',
          }
        : written(item),
    );
    const reports: AttemptReport[] = [];
    const client = new GuardClient({ url: guard.url, apiKey: 'k', onAttempt: (r) => reports.push(r) });
    const results = await Promise.all(
      [0, 1, 2].map((i) =>
        client.appendToStream(`account-${i}`, [{ type: 'Opened', data: {} }], { expectedVersion: 'any' }),
      ),
    );
    expect(results.map((r) => r.stream)).toEqual(['account-0', 'account-1', 'account-2']);
    expect(guard.requests.map((r) => r.items.map((i) => i.stream))).toEqual([
      ['account-0', 'account-1', 'account-2'],
      ['account-1'],
    ]);
    const [first, retry] = [guard.requests[0]?.items[1], guard.requests[1]?.items[0]];
    expect(retry?.events.map((e) => e.id)).toEqual(first?.events.map((e) => e.id));
    const ofOne = reports.filter((r) => r.stream === 'account-1');
    expect(ofOne.map((r) => [r.attempt, r.outcome.status])).toEqual([
      [1, 'indeterminate'],
      [2, 'ok'],
    ]);
  });

  it('appendMany: per-item results and errors, none thrown; sent at once as one request', async () => {
    const guard = await standIn((item) =>
      item.stream === 'account-2'
        ? {
            status: 400,
            error: 'invalid_event',
            message: 'appends[1].events[0].data: required',
            path: 'appends[1].events[0].data',
          }
        : written(item),
    );
    const client = new GuardClient({ url: guard.url, apiKey: 'k', coalesce: false });
    const results = await client.appendMany([
      { stream: 'account-1', events: [{ type: 'Opened', data: {} }], expectedVersion: 'no_stream' },
      { stream: 'account-2', events: [{ type: 'Opened', data: {} }], expectedVersion: 'no_stream' },
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, false]);
    const failed = results[1];
    expect(failed?.ok === false && failed.error.code).toBe('KES_INVALID_REQUEST');
    expect(guard.requests).toHaveLength(1);
  });

  it('coalesce false: appendToStream sends alone to the single-append endpoint', async () => {
    const guard = await standIn((item) => written(item));
    const client = new GuardClient({ url: guard.url, apiKey: 'k', coalesce: false });
    await Promise.all(
      [1, 2].map((i) => client.appendToStream(`account-${i}`, [{ type: 'T', data: {} }], { expectedVersion: 'any' })),
    );
    expect(guard.requests.map((r) => r.path).sort()).toEqual([
      '/streams/account-1/events',
      '/streams/account-2/events',
    ]);
  });

  it('a guard without POST /appends (404) gets each append alone, from then on', async () => {
    const guard = await standIn(
      (item) => written(item),
      (seen) =>
        seen.path === '/appends' ? { status: 404, body: { message: 'Route POST:/appends not found' } } : undefined,
    );
    const client = new GuardClient({ url: guard.url, apiKey: 'k' });
    const append = (i: number) =>
      client.appendToStream(`account-${i}`, [{ type: 'T', data: {} }], { expectedVersion: 'any' });
    expect((await Promise.all([append(1), append(2)])).map((r) => r.stream)).toEqual(['account-1', 'account-2']);
    await append(3);
    expect(guard.requests.map((r) => r.path)).toEqual([
      '/appends',
      '/streams/account-1/events',
      '/streams/account-2/events',
      '/streams/account-3/events',
    ]);
  });

  it('appendAtomically: a conflict throws one AtomicAppendError with every outcome, the conflict as cause', async () => {
    const guard = await standIn((item) =>
      item.stream === 'account-2'
        ? { status: 409, error: 'wrong_expected_version', stream: item.stream, expected: 0, actual: 4, message: 'x' }
        : written(item),
    );
    const reports: AttemptReport[] = [];
    const client = new GuardClient({ url: guard.url, apiKey: 'k', onAttempt: (r) => reports.push(r) });
    const error = await client
      .appendAtomically([
        { stream: 'account-1', events: [{ type: 'T', data: {} }], expectedVersion: 0 },
        { stream: 'account-2', events: [{ type: 'T', data: {} }], expectedVersion: 0 },
      ])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AtomicAppendError);
    const atomic = error as AtomicAppendError;
    expect(atomic.cause).toBeInstanceOf(WrongExpectedVersionError);
    expect(atomic.results.map((r) => r.stream)).toEqual(['account-1', 'account-2']);
    expect(guard.requests).toHaveLength(1);
    expect(guard.requests[0]?.atomic).toBe(true);
    expect(reports.map((r) => r.outcome.status)).toEqual(['rejected', 'conflict']);
    expect(new Set(reports.map((r) => r.atomicGroup)).size).toBe(1);
  });

  it('appendAtomically: not ready, then written: retried whole with the same ids', async () => {
    let first = true;
    const guard = await standIn(
      (item) => written(item),
      () => {
        if (!first) return undefined;
        first = false;
        return { status: 503, body: { error: 'not_ready', message: 'guard not ready: rebuilding', retriable: true } };
      },
    );
    const client = new GuardClient({ url: guard.url, apiKey: 'k' });
    const results = await client.appendAtomically([
      { stream: 'account-1', events: [{ type: 'T', data: {} }], expectedVersion: 'any' },
      { stream: 'account-2', events: [{ type: 'T', data: {} }], expectedVersion: 'any' },
    ]);
    expect(results.map((r) => r.stream)).toEqual(['account-1', 'account-2']);
    expect(guard.requests).toHaveLength(2);
    const ids = guard.requests.map((r) => r.items.flatMap((i) => i.events.map((e) => e.id)));
    expect(ids[1]).toEqual(ids[0]);
  });
});
