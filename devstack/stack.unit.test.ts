import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../pipeline/config/config.js';
import { PortInUseError } from '../pipeline/errors.js';
import { planPorts, portsOf } from './portPlan.js';
import { findFreePort, isPortFree, portHolder } from './ports.js';
import { parseJavaVersion } from './prerequisites.js';
import { isModernClickHouse } from './types.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function occupy(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen({ port: 0, host: '127.0.0.1' }, r));
  servers.push(server);
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('ports', () => {
  it('tells a taken port from a free one and names the process that holds it', async () => {
    const port = await occupy();
    expect(await isPortFree(port)).toBe(false);
    expect(portHolder(port)).toBe(`pid ${process.pid} (node)`);
    const free = await findFreePort(port, new Set());
    expect(free).toBeGreaterThan(port);
    expect(await isPortFree(free)).toBe(true);
  });
});

describe('planPorts', () => {
  it('moves a default port that another process holds, and says who holds it', async () => {
    const port = await occupy();
    const config = loadConfig({ env: {}, ignoreStackEnv: true });
    const remembered = { ...portsOf(await planPorts(config, undefined, new Set())), redis: port };
    const decisions = await planPorts(config, remembered, new Set());
    const redis = decisions.find((d) => d.key === 'redis');
    expect(redis?.port).not.toBe(port);
    expect(redis?.movedFrom).toEqual({ port, holder: `pid ${process.pid} (node)` });
  });

  it('refuses an explicitly configured port that is taken, naming port and holder', async () => {
    const port = await occupy();
    const config = loadConfig({ env: { KES_REDIS_PORT: String(port) }, ignoreStackEnv: true });
    const plan = planPorts(config, undefined, new Set());
    await expect(plan).rejects.toBeInstanceOf(PortInUseError);
    await expect(planPorts(config, undefined, new Set())).rejects.toThrow(
      `redis (KES_REDIS_PORT): port ${port} is in use by pid ${process.pid} (node)`,
    );
  });

  it('keeps the port of a service of ours that is already running on it', async () => {
    const port = await occupy();
    const config = loadConfig({ env: {}, ignoreStackEnv: true });
    const remembered = { ...portsOf(await planPorts(config, undefined, new Set())), redis: port };
    const decisions = await planPorts(config, remembered, new Set(['redis']));
    expect(decisions.find((d) => d.key === 'redis')).toEqual({ key: 'redis', port });
  });

  it('never hands one port to two services', async () => {
    const config = loadConfig({ env: { KES_KAFKA_PORT: '23456' }, ignoreStackEnv: true });
    const remembered = { ...portsOf(await planPorts(config, undefined, new Set())), kafkaController: 23456 };
    const ports = Object.values(portsOf(await planPorts(config, remembered, new Set())));
    expect(new Set(ports).size).toBe(ports.length);
  });

  it('plans the embedded facade like the others, and leaves port 0 for it to pick at bind time', async () => {
    const defaults = await planPorts(loadConfig({ env: {}, ignoreStackEnv: true }), undefined, new Set());
    expect(defaults.find((d) => d.key === 'clickhouseEmbedded')?.port).toBeGreaterThanOrEqual(18124);
    const config = loadConfig({ env: { KES_CLICKHOUSE_EMBEDDED_PORT: '0' }, ignoreStackEnv: true });
    const decisions = await planPorts(config, undefined, new Set());
    expect(decisions.find((d) => d.key === 'clickhouseEmbedded')).toEqual({ key: 'clickhouseEmbedded', port: 0 });
  });
});

describe('prerequisites and versions', () => {
  it.each([
    ['openjdk version "17.0.15" 2025-04-15', 17],
    ['openjdk version "25.0.3" 2026-04-21 LTS', 25],
    ['java version "1.8.0_392"', 8],
    ['nothing useful', undefined],
  ])('parses %s', (text, major) => {
    expect(parseJavaVersion(text)).toBe(major);
  });

  it.each([
    ['18.16.1', false],
    ['23.3.1.1', false],
    ['23.8.2.7', true],
    ['25.8.1.1', true],
    ['26.7.2.1', true],
  ])('ClickHouse %s is modern enough for the read models: %s', (version, modern) => {
    expect(isModernClickHouse(version)).toBe(modern);
  });
});

describe('docker-compose.yml location', () => {
  it('is found from the sources as from dist/', async () => {
    const { composeFile } = await import('./stack.js');
    expect(existsSync(composeFile)).toBe(true);
  });
});
