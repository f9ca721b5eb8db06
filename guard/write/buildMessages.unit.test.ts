import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeHeaders } from '../../pipeline/events/eventRecord.js';
import { buildMessages } from './buildMessages.js';
import { commitOutcomes } from './commitOutcomes.js';
import type { ReservedPartition } from './decideReserveAnswers.js';

const event = (id: string, metadata?: Record<string, unknown>) => ({
  id,
  type: 'MoneyDeposited',
  hash: `h-${id}`,
  value: Buffer.from(`v-${id}`),
  ...(metadata === undefined ? {} : { metadata }),
});
const append = (stream: string, ...events: ReturnType<typeof event>[]) => ({ append: { stream, events } });

describe('buildMessages', () => {
  it('keys by stream, uses the reserved partition, and numbers versions from the first reserved one', () => {
    const reserved = [
      {
        topic: 'kes.account',
        partition: 3,
        appends: [{ item: append('account-1', event('e1'), event('e2')), first: 7, last: 8 }],
      },
    ];
    expect(buildMessages(reserved, 1_700_000_000_123)).toEqual([
      {
        topic: 'kes.account',
        messages: [
          {
            key: 'account-1',
            value: Buffer.from('v-e1'),
            partition: 3,
            timestamp: '1700000000123',
            headers: {
              ce_specversion: '1.0',
              ce_id: 'e1',
              ce_source: '/kes/account',
              ce_type: 'MoneyDeposited',
              ce_subject: 'account-1',
              ce_time: '2023-11-14T22:13:20.123Z',
              'kes-version': '7',
              'kes-hash': 'h-e1',
            },
          },
          {
            key: 'account-1',
            value: Buffer.from('v-e2'),
            partition: 3,
            timestamp: '1700000000123',
            headers: {
              ce_specversion: '1.0',
              ce_id: 'e2',
              ce_source: '/kes/account',
              ce_type: 'MoneyDeposited',
              ce_subject: 'account-1',
              ce_time: '2023-11-14T22:13:20.123Z',
              'kes-version': '8',
              'kes-hash': 'h-e2',
            },
          },
        ],
      },
    ]);
  });

  it('adds the metadata header only for an event that has metadata', () => {
    const reserved = [
      {
        topic: 't',
        partition: 0,
        appends: [{ item: append('a-1', event('e1', { by: 'x' }), event('e2')), first: 0, last: 1 }],
      },
    ];
    const [m1, m2] = buildMessages(reserved, 5)[0]?.messages ?? [];
    expect(m1?.headers['kes-metadata']).toBe('{"by":"x"}');
    expect(m2 && 'kes-metadata' in m2.headers).toBe(false);
    expect(decodeHeaders(m1?.headers)).toEqual({
      stream: 'a-1',
      version: 0,
      eventId: 'e1',
      type: 'MoneyDeposited',
      timeMs: 5,
      contentHash: 'h-e1',
      metadata: { by: 'x' },
    });
  });

  it("adds the append request's traceparent to each of its events, and none to an append without one", () => {
    const trace = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const traced = { append: { stream: 'a-1', events: [event('e1'), event('e2')], traceparent: trace } };
    const reserved = [
      {
        topic: 't',
        partition: 0,
        appends: [
          { item: traced, first: 0, last: 1 },
          { item: append('a-2', event('e3')), first: 0, last: 0 },
        ],
      },
    ];
    const messages = buildMessages(reserved, 5)[0]?.messages ?? [];
    expect(messages.map((m) => m.headers.traceparent)).toEqual([trace, trace, undefined]);
    expect('traceparent' in (messages[2]?.headers ?? {})).toBe(false);
  });

  it('one entry per topic in order of first appearance; within it partition, then append, then event', () => {
    const reserved = [
      { topic: 'b', partition: 1, appends: [{ item: append('b-1', event('1')), first: 0, last: 0 }] },
      { topic: 'a', partition: 0, appends: [{ item: append('a-1', event('2'), event('3')), first: 4, last: 5 }] },
      {
        topic: 'b',
        partition: 0,
        appends: [
          { item: append('b-2', event('4')), first: 1, last: 1 },
          { item: append('b-3', event('5')), first: 9, last: 9 },
        ],
      },
    ];
    expect(
      buildMessages(reserved, 0).map(({ topic, messages }) => [
        topic,
        messages.map((m) => `${m.partition}:${m.headers.ce_id}@${m.headers['kes-version']}`),
      ]),
    ).toEqual([
      ['b', ['1:1@0', '0:4@1', '0:5@9']],
      ['a', ['0:2@4', '0:3@5']],
    ]);
  });
});

/** Reserved partitions with distinct topic-partitions, 1-3 appends each, 1-3 events per append. */
const reservedArb = fc
  .uniqueArray(fc.record({ topic: fc.constantFrom('a', 'b'), partition: fc.nat(3) }), {
    selector: (p) => `${p.topic}:${p.partition}`,
    minLength: 1,
    maxLength: 6,
  })
  .chain((partitions) =>
    fc.tuple(
      ...partitions.map((p) =>
        fc
          .array(fc.record({ events: fc.integer({ min: 1, max: 3 }), first: fc.nat(1_000) }), {
            minLength: 1,
            maxLength: 3,
          })
          .map((appends) => ({ ...p, appends })),
      ),
    ),
  )
  .map((partitions) => {
    let n = 0;
    return partitions.map(
      (p): ReservedPartition<ReturnType<typeof append>> => ({
        topic: p.topic,
        partition: p.partition,
        appends: p.appends.map((a, i) => {
          const events = Array.from({ length: a.events }, () => event(`e${n++}`));
          return {
            item: append(`${p.topic}-${p.partition}x${i}`, ...events),
            first: a.first,
            last: a.first + a.events - 1,
          };
        }),
      }),
    );
  });

describe('buildMessages and commitOutcomes agree', () => {
  it('the offset recorded for each event is where the broker puts it: base offset plus its place in its partition', () => {
    fc.assert(
      fc.property(reservedArb, fc.nat(1_000_000), (reserved, baseSeed) => {
        const topicMessages = buildMessages(reserved, 42);
        const base = (topic: string, partition: number) => baseSeed + partition * 1_000 + (topic === 'a' ? 0 : 500);
        const metadata = reserved.map((p) => ({
          topicName: p.topic,
          partition: p.partition,
          baseOffset: String(base(p.topic, p.partition)),
        }));
        const { confirms, answers } = commitOutcomes(reserved, metadata);
        // Where the broker puts each record: per partition, in the order sent.
        const placed = new Map<string, { offset: number; version: string }>();
        for (const { topic, messages } of topicMessages) {
          const next = new Map<number, number>();
          for (const m of messages) {
            const offset = next.get(m.partition) ?? base(topic, m.partition);
            next.set(m.partition, offset + 1);
            placed.set(m.headers.ce_id as string, { offset, version: m.headers['kes-version'] as string });
          }
        }
        const recorded = confirms.flatMap((c) => c.events);
        expect(recorded.length).toBe(placed.size);
        for (const e of recorded) expect(placed.get(e.id)).toEqual({ offset: e.offset, version: String(e.version) });
        for (const { item, outcome } of answers) {
          const last = item.append.events[item.append.events.length - 1];
          expect(outcome.offset).toBe(placed.get(last?.id ?? '')?.offset);
        }
      }),
    );
  });
});
