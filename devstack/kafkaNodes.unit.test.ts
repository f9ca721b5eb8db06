import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { planKafkaExtra } from './portPlan.js';
import { isPortFree } from './ports.js';
import { replicationFor } from './services/kafka.js';
import type { StackPorts } from './services/service.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function occupy(port = 0): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen({ port, host: '127.0.0.1' }, r));
  servers.push(server);
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A port p with p..p+count-1 all free now, below the kernel's ephemeral range (outgoing sockets don't land there). */
async function freeRun(count: number): Promise<number> {
  for (let p = 21_000 + Math.floor(Math.random() * 8_000); ; p += count) {
    const free = await Promise.all(Array.from({ length: count }, (_, i) => isPortFree(p + i)));
    if (free.every(Boolean)) return p;
  }
}

function portsFrom(kafka: number): StackPorts {
  return {
    kafka,
    kafkaController: kafka + 1,
    registry: 1,
    registryManagement: 2,
    redis: 3,
    clickhouseHttp: 4,
    clickhouseTcp: 5,
    clickhouseEmbedded: 0,
    postgres: 6,
  };
}

describe('a local Kafka cluster', () => {
  it("plans nodes 2..N two ports apart from node 1's, and moves a taken one", async () => {
    const base = await freeRun(6);
    expect(await planKafkaExtra(3, portsFrom(base), undefined)).toEqual([
      { broker: base + 2, controller: base + 3 },
      { broker: base + 4, controller: base + 5 },
    ]);
    await occupy(base + 4);
    const moved = await planKafkaExtra(3, portsFrom(base), undefined);
    expect(moved[1]?.broker).not.toBe(base + 4);
    expect(new Set([base, base + 1, ...moved.flatMap((n) => [n.broker, n.controller])]).size).toBe(6);
  });

  it('keeps the ports a node was given, taken or not: the quorum lists them', async () => {
    const held = await occupy();
    const remembered = [{ broker: held, controller: held + 1 }];
    expect(await planKafkaExtra(2, portsFrom(40_000), remembered)).toEqual(remembered);
  });

  it('replicates three times with two in sync from three nodes, once on one', () => {
    expect(replicationFor(1)).toEqual({ factor: 1, minIsr: 1 });
    expect(replicationFor(3)).toEqual({ factor: 3, minIsr: 2 });
    expect(replicationFor(5)).toEqual({ factor: 3, minIsr: 2 });
  });
});
