import { describe, expect, it } from 'vitest';
import { capturedLogger } from '../../test/support/capturedLogger.js';
import { createHttpApp, REQUEST_ID_HEADER } from './httpApp.js';

async function app(level: 'debug' | 'info') {
  const { log, lines } = capturedLogger('guard', level);
  const server = await createHttpApp({ title: 't', description: 'd', log });
  server.get('/work', async (request) => {
    request.log.info({ step: 1 }, 'working');
    return { ok: true };
  });
  server.get('/fail', async () => {
    throw new Error('broken');
  });
  await server.ready();
  return { server, lines };
}

describe('createHttpApp: request ids in the logs', () => {
  it("every line of a request carries its id: the client's x-request-id, answered back", async () => {
    const { server, lines } = await app('debug');
    const answer = await server.inject({ url: '/work', headers: { [REQUEST_ID_HEADER]: 'req-42' } });
    expect(answer.headers[REQUEST_ID_HEADER]).toBe('req-42');
    const mine = lines.filter((l) => l.reqId === 'req-42');
    expect(mine.map((l) => l.msg)).toEqual(['incoming request', 'working', 'request completed']);
    expect(mine.at(-1)).toMatchObject({ level: 'debug', method: 'GET', url: '/work', statusCode: 200 });
    await server.close();
  });

  it('makes up a UUID when the client sends none, and keeps requests apart', async () => {
    const { server, lines } = await app('debug');
    const [a, b] = await Promise.all([server.inject({ url: '/work' }), server.inject({ url: '/work' })]);
    const ids = [a?.headers[REQUEST_ID_HEADER], b?.headers[REQUEST_ID_HEADER]];
    for (const id of ids) expect(String(id)).toMatch(/^[0-9a-f-]{36}$/);
    expect(ids[0]).not.toBe(ids[1]);
    for (const id of ids) expect(lines.filter((l) => l.reqId === id)).toHaveLength(3);
    await server.close();
  });

  it('at info, requests are not logged but what a handler logs is, with its id; a 500 is an error line', async () => {
    const { server, lines } = await app('info');
    await server.inject({ url: '/work', headers: { [REQUEST_ID_HEADER]: 'r1' } });
    await server.inject({ url: '/fail', headers: { [REQUEST_ID_HEADER]: 'r2' } });
    expect(lines.filter((l) => l.reqId === 'r1').map((l) => l.msg)).toEqual(['working']);
    expect(lines.filter((l) => l.reqId === 'r2').some((l) => l.level === 'error')).toBe(true);
    await server.close();
  });

  it('serves the OpenAPI 3.1 document of the routes added after it', async () => {
    const { server } = await app('info');
    const doc = (await server.inject({ url: '/openapi.json' })).json() as { openapi: string; paths: object };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(['/work', '/fail']);
    await server.close();
  });
});
