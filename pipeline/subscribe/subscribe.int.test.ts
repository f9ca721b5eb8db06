import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Admin, type Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressesToEnv } from '../../devstack/types.js';
import { uniqueName } from '../../test/support/names.js';
import { stack } from '../../test/support/stack.js';
import { waitFor } from '../../test/support/waitFor.js';
import { type KesConfig, loadConfig } from '../config/config.js';
import { SubscriptionHandlerError } from '../errors.js';
import { contentHash } from '../events/contentHash.js';
import { encodeHeaders } from '../events/eventRecord.js';
import { createKafka } from '../kafka/kafkaClient.js';
import { type EventCatalog, openEventCatalog } from '../schemas/eventCatalog.js';
import type { Position } from './position.js';
import { type Subscription, type SubscriptionHandler, subscribe } from './subscribe.js';
import type { SubscribedEvent } from './subscribedEvent.js';

const TRACE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

/**
 * subscribe() on the real stack. Events are written straight to Kafka in transactions, the way the guard writes
 * them (key = stream, kes headers, Avro value through the registry), so that a test can also abort some.
 */
describe('subscribe', () => {
  let config: KesConfig;
  let kafka: Kafka;
  let admin: Admin;
  let catalog: EventCatalog;
  let producer: Producer;
  const open: Subscription[] = [];

  beforeAll(async () => {
    config = loadConfig({
      env: {},
      cwd: mkdtempSync(join(tmpdir(), 'kes-subscribe-')),
      overrides: {
        ...addressesToEnv(stack()),
        KES_TOPIC_PREFIX: `${uniqueName('sub')}.`,
        KES_SCHEMAS_DIR: join(process.cwd(), 'schemas'),
      },
    });
    kafka = createKafka(config, uniqueName('subscribe-test'), { logLevel: logLevel.NOTHING });
    admin = kafka.admin();
    await admin.connect();
    catalog = await openEventCatalog({ registryUrl: config.SCHEMA_REGISTRY_URL, dir: config.KES_SCHEMAS_DIR });
    producer = kafka.producer({ transactionalId: uniqueName('sub-writer'), idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
  });
  afterAll(async () => {
    await Promise.all(open.map((s) => s.close().catch(() => {})));
    await producer?.disconnect();
    await admin?.disconnect();
  });

  /** A new category with its own topic of `partitions` partitions. */
  const category = async (partitions = 4): Promise<{ name: string; topic: string }> => {
    const name = uniqueName('c').replace(/[^a-z0-9_]/g, '_');
    const topic = `${config.KES_TOPIC_PREFIX}${name}`;
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions }] });
    return { name, topic };
  };

  const record = (stream: string, version: number) => {
    const data = { amount: 100 + version, currency: 'EUR', transferId: null };
    return {
      key: stream,
      value: catalog.encode('MoneyDeposited', data),
      headers: encodeHeaders({
        stream,
        version,
        eventId: `${stream}:${version}`,
        type: 'MoneyDeposited',
        timeMs: Date.now(),
        contentHash: contentHash('MoneyDeposited', data, {}),
        metadata: { by: 'test' },
        // Version 2 as if appended by a traced request: the handler gets its traceparent, the others none.
        ...(version === 2 ? { traceparent: TRACE } : {}),
      }),
    };
  };

  /** Appends versions [from, from + count) of each stream, in one committed transaction. */
  const append = async (topic: string, streams: string[], from: number, count: number): Promise<void> => {
    const tx = await producer.transaction();
    const messages = streams.flatMap((s) => Array.from({ length: count }, (_, i) => record(s, from + i)));
    await tx.send({ topic, messages });
    await tx.commit();
  };

  const start = <D>(options: Parameters<typeof subscribe>[0], handler: SubscriptionHandler<D>): Subscription => {
    const sub = subscribe({ config, kafka, sessionTimeoutMs: 6_000, ...options }, handler);
    open.push(sub);
    return sub;
  };

  /** A handler that records what it was given; `seen` in delivery order. */
  const collector = () => {
    const seen: SubscribedEvent[] = [];
    const handler: SubscriptionHandler = (event) => {
      seen.push(event);
    };
    const names = () => seen.map((e) => `${e.stream}@${e.version}`);
    return { seen, handler, names };
  };

  const committed = async (group: string, topic: string) => {
    const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return Object.fromEntries((offsets?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  };
  const ends = async (topic: string) =>
    Object.fromEntries((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));

  it("from 'start': every event once, decoded, with its position, in stream order; offsets committed to the end; a restarted group resumes and ignores `from`", async () => {
    const { name, topic } = await category();
    const streams = Array.from({ length: 6 }, (_, i) => `${name}-s${i}`);
    await append(topic, streams, 0, 5);
    const group = uniqueName('g');
    const c = collector();
    const sub = start({ categories: [name], group, from: 'start' }, c.handler);
    await sub.ready;
    await waitFor('30 events', () => c.seen.length >= 30);
    expect(new Set(c.names()).size).toBe(30);
    for (const s of streams) {
      expect(c.seen.filter((e) => e.stream === s).map((e) => e.version)).toEqual([0, 1, 2, 3, 4]);
    }
    const first = c.seen.find((e) => e.stream === streams[0] && e.version === 2) as SubscribedEvent;
    expect(first).toMatchObject({
      category: name,
      id: `${streams[0]}:2`,
      type: 'MoneyDeposited',
      data: { amount: 102, currency: 'EUR', transferId: null },
      metadata: { by: 'test' },
    });
    expect(first.time).toBeInstanceOf(Date);
    expect(first.traceparent).toBe(TRACE);
    expect(c.seen.find((e) => e.stream === streams[0] && e.version === 1)).not.toHaveProperty('traceparent');
    expect(first.position.topic).toBe(topic);
    // The position is where the record really is: the partition holds that stream and that offset.
    const byPartition = new Map<number, number[]>();
    for (const e of c.seen)
      byPartition.set(e.position.partition, [...(byPartition.get(e.position.partition) ?? []), e.position.offset]);
    for (const offsets of byPartition.values()) expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    await waitFor('offsets committed to the end', async () => {
      const [c0, e0] = [await committed(group, topic), await ends(topic)];
      return Object.keys(e0).every((p) => e0[Number(p)] === 0 || c0[Number(p)] === e0[Number(p)]);
    });
    await sub.close();
    await sub.done;

    await append(topic, streams.slice(0, 2), 5, 2);
    const again = collector();
    const resumed = start({ categories: [name], group, from: [{ topic, partition: 0, offset: 0 }] }, again.handler);
    await waitFor('the 4 new events', () => again.seen.length >= 4);
    await resumed.close();
    expect(again.names().sort()).toEqual([`${streams[0]}@5`, `${streams[0]}@6`, `${streams[1]}@5`, `${streams[1]}@6`]);
  });

  it("from 'end': only events appended after the group took its partitions", async () => {
    const { name, topic } = await category();
    await append(topic, [`${name}-old`], 0, 5);
    const c = collector();
    const sub = start({ categories: [name], group: uniqueName('g'), from: 'end' }, c.handler);
    await sub.ready;
    await append(topic, [`${name}-old`, `${name}-new`], 5, 2);
    await waitFor('4 new events', () => c.seen.length >= 4);
    await sub.close();
    expect(c.names().sort()).toEqual([`${name}-new@5`, `${name}-new@6`, `${name}-old@5`, `${name}-old@6`]);
  });

  it("from 'end': the first member's start is committed at once, so the group later resumes there, not at a later end", async () => {
    const { name, topic } = await category(1);
    await append(topic, [`${name}-a`], 0, 3);
    const group = uniqueName('g');
    const first = start({ categories: [name], group, from: 'end' }, () => {});
    await first.ready;
    const end = (await ends(topic))[0];
    expect((await committed(group, topic))[0]).toBe(end);
    await first.close();
    await append(topic, [`${name}-a`], 3, 2); // while no member runs
    const c = collector();
    const second = start({ categories: [name], group, from: 'end' }, c.handler);
    await waitFor('the 2 events appended in between', () => c.seen.length >= 2);
    await second.close();
    expect(c.names()).toEqual([`${name}-a@3`, `${name}-a@4`]);
  });

  it('from positions: the listed partition from that offset (inclusive), the others from the start', async () => {
    const { name, topic } = await category(2);
    const streams = Array.from({ length: 6 }, (_, i) => `${name}-s${i}`);
    await append(topic, streams, 0, 4);
    const all = collector();
    const probe = start({ categories: [name], group: uniqueName('probe') }, all.handler);
    await waitFor('24 events', () => all.seen.length >= 24);
    await probe.close();
    const target = all.seen.find((e) => e.stream === streams[0] && e.version === 2) as SubscribedEvent;
    const from: Position = target.position;
    const c = collector();
    const sub = start({ categories: [name], group: uniqueName('g'), from: [from] }, c.handler);
    const expected = all.seen
      .filter((e) => e.position.partition !== from.partition || e.position.offset >= from.offset)
      .map((e) => `${e.stream}@${e.version}`)
      .sort();
    await waitFor(`${expected.length} events`, () => c.seen.length >= expected.length);
    await sub.close();
    expect(c.names().sort()).toEqual(expected);
    expect(c.seen.find((e) => e.position.partition === from.partition)?.position).toEqual(from);
  });

  it('read_committed: records of aborted transactions never reach the handler, even interleaved from two producers', async () => {
    const { name, topic } = await category(1);
    const aborters = [0, 1].map((i) =>
      kafka.producer({ transactionalId: uniqueName(`aborter${i}`), idempotent: true, maxInFlightRequests: 1 }),
    );
    for (const p of aborters) await p.connect();
    try {
      const [a, b] = await Promise.all(aborters.map((p) => p.transaction()));
      await a?.send({ topic, messages: [record(`${name}-aborted`, 0)] });
      await b?.send({ topic, messages: [record(`${name}-aborted`, 1)] });
      await append(topic, [`${name}-kept`], 0, 1);
      await a?.send({ topic, messages: [record(`${name}-aborted`, 2)] });
      await b?.send({ topic, messages: [record(`${name}-aborted`, 3)] });
      await a?.abort();
      await b?.abort();
      await append(topic, [`${name}-kept`], 1, 2);
    } finally {
      for (const p of aborters) await p.disconnect();
    }
    const c = collector();
    const group = uniqueName('g');
    const sub = start({ categories: [name], group }, c.handler);
    await waitFor('the 3 committed events', () => c.seen.length >= 3);
    await waitFor(
      'offsets past the markers',
      async () => (await committed(group, topic))[0] === (await ends(topic))[0],
    );
    await sub.close();
    expect(c.names()).toEqual([`${name}-kept@0`, `${name}-kept@1`, `${name}-kept@2`]);
  });

  it('a handler that throws is retried; one that keeps throwing stops the subscription with the position, uncommitted, and the group gets that event again', async () => {
    const { name, topic } = await category(1);
    await append(topic, [`${name}-a`], 0, 6);
    const attempts: string[] = [];
    const flaky: SubscriptionHandler = (event, { attempt }) => {
      attempts.push(`${event.version}#${attempt}`);
      if (event.version === 1 && attempt < 3) throw new Error('not yet');
      if (event.version === 4) throw new Error('never');
    };
    const group = uniqueName('g');
    const errors: unknown[] = [];
    const sub = start(
      { categories: [name], group, retry: { retries: 2, initialMs: 10, maxMs: 20 }, onError: (e) => errors.push(e) },
      flaky,
    );
    const error = await sub.done.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SubscriptionHandlerError);
    expect(error).toMatchObject({
      topic,
      partition: 0,
      stream: `${name}-a`,
      attempts: 3,
      code: 'KES_SUBSCRIPTION_HANDLER_FAILED',
    });
    expect(errors).toEqual([error]);
    expect(attempts).toEqual(['0#1', '1#1', '1#2', '1#3', '2#1', '3#1', '4#1', '4#2', '4#3']);
    const failedAt = (error as SubscriptionHandlerError).offset;
    expect((await committed(group, topic))[0]).toBe(failedAt);

    const c = collector();
    const next = start({ categories: [name], group }, c.handler);
    await waitFor('the rest', () => c.seen.length >= 2);
    await next.close();
    expect(c.names()).toEqual([`${name}-a@4`, `${name}-a@5`]);
    expect(c.seen[0]?.position.offset).toBe(failedAt);
  });

  it('at least once across a crash: a process killed inside its handler, before the checkpoint, has that event delivered again to the next member', async () => {
    // The handler's process runs the built library (npm run build), so that the kill takes the whole process.
    const built = join(process.cwd(), 'dist/pipeline/subscribe/subscribe.js');
    expect(existsSync(built), 'run npm run build first').toBe(true);
    const { name, topic } = await category(1);
    await append(topic, [`${name}-a`], 0, 10);
    const group = uniqueName('g');
    const script = `
      const { subscribe } = await import(process.env.SUB_MODULE);
      subscribe(JSON.parse(process.env.SUB_OPTIONS), async (event) => {
        const key = event.stream + '@' + event.version;
        if (key === process.env.CRASH_AT) process.kill(process.pid, 'SIGKILL');
        process.stdout.write('handled ' + key + '\\n');
      });`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        ...process.env,
        SUB_MODULE: built,
        CRASH_AT: `${name}-a@5`,
        // Commits every 2 events: v0..v3 are committed, v4 finished but shares its slice with v5.
        SUB_OPTIONS: JSON.stringify({ categories: [name], group, config, sliceRecords: 2, sessionTimeoutMs: 6_000 }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const signal = await new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, sig) => resolve(sig)),
    );
    expect(signal, output).toBe('SIGKILL');
    const handledBefore = output
      .trim()
      .split('\n')
      .map((l) => l.replace('handled ', ''));
    expect(handledBefore).toEqual([0, 1, 2, 3, 4].map((v) => `${name}-a@${v}`));

    const c = collector();
    const next = start({ categories: [name], group }, c.handler);
    await waitFor('the rest after the crash', () => c.seen.at(-1)?.version === 9, 60_000);
    await next.close();
    // From the last commit that reached the group: at the latest v4 (handled, but its slice not finished), then v5
    // whose handler died, then the rest. A slice's commit is not awaited before the next slice runs, so the kill may
    // also have beaten the commit of v2..v3: those come again too. Nothing is skipped.
    const versions = c.seen.map((e) => e.version);
    const from = versions[0] as number;
    expect(from).toBeLessThanOrEqual(4);
    expect(versions).toEqual(Array.from({ length: 10 - from }, (_, i) => from + i));
  });

  it('close lets the handler in flight finish and commits it; nothing after it is delivered', async () => {
    const { name, topic } = await category(1);
    await append(topic, [`${name}-a`], 0, 3);
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const seen: number[] = [];
    const finished: number[] = [];
    let inFlight: Position | undefined;
    const group = uniqueName('g');
    const sub = start({ categories: [name], group }, async (event) => {
      seen.push(event.version);
      if (event.version === 1) {
        inFlight = event.position;
        await gate;
      }
      finished.push(event.version);
    });
    await waitFor('the handler of version 1 to run', () => seen.includes(1));
    let closed = false;
    const closing = sub.close().then(() => {
      closed = true;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(closed).toBe(false);
    release();
    await closing;
    await sub.done;
    expect(finished).toEqual([0, 1]);
    expect(seen).toEqual([0, 1]);
    expect((await committed(group, topic))[0]).toBe((inFlight?.offset ?? -2) + 1);
  });

  it('rebalance: two subscribers in one group, one joining and one leaving mid-stream; every event handled, each stream in order', async () => {
    const { name, topic } = await category(4);
    const streams = Array.from({ length: 12 }, (_, i) => `${name}-s${i}`);
    const group = uniqueName('g');
    let sequence = 0;
    const firsts = new Map<string, number>();
    const deliveries: { member: string; stream: string; version: number; partition: number; offset: number }[] = [];
    const running: Record<string, number> = { a: 0, b: 0 };
    const member =
      (id: string): SubscriptionHandler =>
      async (event) => {
        running[id] = (running[id] ?? 0) + 1;
        const key = `${event.stream}@${event.version}`;
        if (!firsts.has(key)) firsts.set(key, sequence++);
        deliveries.push({ member: id, stream: event.stream, version: event.version, ...event.position });
        await new Promise((r) => setTimeout(r, 5));
        running[id] = (running[id] ?? 0) - 1;
      };
    const a = start({ categories: [name], group }, member('a'));
    await a.ready;
    const total = 40;
    const writing = (async () => {
      for (let v = 0; v < total; v += 4) {
        await append(topic, streams, v, 4);
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
    await waitFor('a to work', () => deliveries.length > 50);
    const b = start({ categories: [name], group }, member('b'));
    await b.ready;
    await waitFor('b to take partitions', () => deliveries.some((d) => d.member === 'b'), 60_000);
    await a.close();
    // close() returned only after a's handlers in flight had finished.
    const interrupted = running.a;
    await writing;
    await waitFor('every event', () => firsts.size >= streams.length * total, 60_000);
    await b.close();
    expect(interrupted).toBe(0);
    for (const s of streams) {
      const order = Array.from({ length: total }, (_, v) => firsts.get(`${s}@${v}`) as number);
      expect(order).toEqual([...order].sort((x, y) => x - y));
    }
    // Per partition too: the first deliveries of its records come in offset order, whichever member had it.
    const firstOffsets = new Map<number, { seq: number; offset: number }[]>();
    for (const d of deliveries) {
      const seq = firsts.get(`${d.stream}@${d.version}`) as number;
      const list = firstOffsets.get(d.partition) ?? [];
      if (!list.some((x) => x.seq === seq)) list.push({ seq, offset: d.offset });
      firstOffsets.set(d.partition, list);
    }
    for (const list of firstOffsets.values()) {
      const offsets = list.sort((x, y) => x.seq - y.seq).map((x) => x.offset);
      expect(offsets).toEqual([...offsets].sort((x, y) => x - y));
    }
    const both = new Set(deliveries.map((d) => d.member));
    expect(both).toEqual(new Set(['a', 'b']));
    const duplicates = deliveries.length - firsts.size;
    console.log(`rebalance: ${firsts.size} events, ${deliveries.length} deliveries (${duplicates} again)`);
  });
});
