import avro from 'avsc';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidRequestError, TooLargeError } from '../../pipeline/errors.js';
import { contentHash } from '../../pipeline/events/contentHash.js';
import { buildEventCatalog } from '../../pipeline/schemas/eventCatalog.js';
import { HEADER_BYTES } from '../../pipeline/schemas/wireFormat.js';
import { parseAppendRequest, parseStream } from './appendRequest.js';

const orderPlaced = avro.Type.forSchema({
  type: 'record',
  name: 'OrderPlaced',
  namespace: 'kes.test',
  fields: [
    { name: 'orderId', type: 'string' },
    { name: 'total', type: 'long' },
    { name: 'note', type: ['null', 'string'], default: null },
    {
      name: 'customer',
      type: {
        type: 'record',
        name: 'Customer',
        fields: [
          { name: 'name', type: 'string' },
          {
            name: 'address',
            type: ['null', { type: 'record', name: 'Address', fields: [{ name: 'city', type: 'string' }] }],
          },
        ],
      },
    },
    {
      name: 'items',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'Item',
          fields: [
            { name: 'sku', type: 'string' },
            { name: 'qty', type: 'int' },
          ],
        },
      },
    },
    { name: 'labels', type: { type: 'map', values: 'string' }, default: {} },
  ],
});

const orderCancelled = avro.Type.forSchema({
  type: 'record',
  name: 'OrderCancelled',
  namespace: 'kes.test',
  fields: [{ name: 'reason', type: 'string' }],
});

const SCHEMA_ID = 4242;
const catalog = buildEventCatalog(
  [
    { type: 'OrderPlaced', avroType: orderPlaced, schemaId: SCHEMA_ID },
    { type: 'OrderCancelled', avroType: orderCancelled, schemaId: SCHEMA_ID + 1 },
  ],
  () => Promise.reject(new Error('no registry in unit tests')),
);

const placed = {
  orderId: 'o-1',
  total: 1999,
  customer: { name: 'Ada', address: { city: 'London' } },
  items: [
    { sku: 'a', qty: 1 },
    { sku: 'b', qty: 2 },
  ],
};

const ID1 = '0b6e7c4a-4f3e-4d8e-9a51-2f0c3e1d5a01';
const ID2 = '0b6e7c4a-4f3e-4d8e-9a51-2f0c3e1d5a02';
const ID3 = '0b6e7c4a-4f3e-4d8e-9a51-2f0c3e1d5a03';

const LIMIT = 64 * 1024;

function body(events: unknown[], expectedVersion: unknown = 'any'): Record<string, unknown> {
  return { expectedVersion, events };
}

function ev(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, type: 'OrderCancelled', data: { reason: 'r' }, ...extra };
}

/** The InvalidRequestError (or TooLargeError) that `fn` throws. */
function thrown(fn: () => unknown): InvalidRequestError | TooLargeError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InvalidRequestError || error instanceof TooLargeError) return error;
    throw error;
  }
  throw new Error('expected the request to be refused');
}

function refusal(stream: string, b: unknown, limit = LIMIT): { error: string; path: string; message: string } {
  const e = thrown(() => parseAppendRequest(stream, b, catalog, limit));
  if (!(e instanceof InvalidRequestError)) throw new Error(`expected InvalidRequestError, got ${e.name}`);
  return { error: e.error, path: e.path, message: e.message };
}

describe('parseAppendRequest: a valid request', () => {
  it('parses stream, expected version and events, lowercasing ids and encoding data in the wire format', () => {
    const metadata = { causationId: 'c-1', user: { id: 7 } };
    const parsed = parseAppendRequest(
      'order-42',
      body([{ id: ID1.toUpperCase(), type: 'OrderPlaced', data: placed, metadata }, ev(ID2)], 3),
      catalog,
      LIMIT,
    );
    expect(parsed.stream).toEqual({ stream: 'order-42', category: 'order', id: '42' });
    expect(parsed.expected).toBe(3);
    expect(parsed.events.map((e) => e.id)).toEqual([ID1, ID2]);
    const [first, second] = parsed.events;
    expect(first?.type).toBe('OrderPlaced');
    expect(first?.metadata).toEqual(metadata);
    expect(first?.hash).toBe(contentHash('OrderPlaced', placed, metadata));
    expect(first?.value[0]).toBe(0);
    expect(first?.value.readInt32BE(1)).toBe(SCHEMA_ID);
    expect(orderPlaced.fromBuffer((first as { value: Buffer }).value.subarray(HEADER_BYTES))).toEqual({
      ...placed,
      note: null,
      labels: {},
    });
    expect(second?.value.readInt32BE(1)).toBe(SCHEMA_ID + 1);
    // no metadata given: none kept (not even an undefined property)
    expect(second && 'metadata' in second).toBe(false);
  });

  it.each([
    ['any', 'any'],
    ['no_stream', 'no_stream'],
    ['stream_exists', 'stream_exists'],
    [-1, -1],
    [0, 0],
    [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  ])('accepts expectedVersion %j', (given, expected) => {
    expect(parseAppendRequest('order-1', body([ev(ID1)], given), catalog, LIMIT).expected).toBe(expected);
  });

  it('hashes content independently of key order, in data and in metadata', () => {
    const a = parseAppendRequest(
      'order-1',
      body([{ id: ID1, type: 'OrderPlaced', data: placed, metadata: { a: 1, b: { x: 1, y: 2 } } }]),
      catalog,
      LIMIT,
    );
    const reordered = {
      items: placed.items.map((i) => ({ qty: i.qty, sku: i.sku })),
      customer: { address: placed.customer.address, name: placed.customer.name },
      total: placed.total,
      orderId: placed.orderId,
    };
    const b = parseAppendRequest(
      'order-1',
      body([{ metadata: { b: { y: 2, x: 1 }, a: 1 }, data: reordered, type: 'OrderPlaced', id: ID1 }]),
      catalog,
      LIMIT,
    );
    expect(b.events[0]?.hash).toBe(a.events[0]?.hash);
    // ... but not of content: other data, other metadata, or an item order change
    const other = (data: unknown, metadata?: unknown) =>
      parseAppendRequest('order-1', body([{ id: ID1, type: 'OrderPlaced', data, metadata }]), catalog, LIMIT).events[0]
        ?.hash;
    expect(other({ ...placed, total: 2000 }, { a: 1, b: { x: 1, y: 2 } })).not.toBe(a.events[0]?.hash);
    expect(other(placed, { a: 2, b: { x: 1, y: 2 } })).not.toBe(a.events[0]?.hash);
    expect(other({ ...placed, items: [...placed.items].reverse() }, { a: 1, b: { x: 1, y: 2 } })).not.toBe(
      a.events[0]?.hash,
    );
  });

  it('accepts an event exactly at the size limit (data plus metadata) and refuses one byte more', () => {
    const data = { reason: 'x'.repeat(100) };
    const metadata = { m: 'y' };
    const size = Buffer.byteLength(JSON.stringify(data)) + Buffer.byteLength(JSON.stringify(metadata));
    expect(() => parseAppendRequest('order-1', body([ev(ID1, { data, metadata })]), catalog, size)).not.toThrow();
    const e = thrown(() => parseAppendRequest('order-1', body([ev(ID1, { data, metadata })]), catalog, size - 1));
    expect(e).toBeInstanceOf(TooLargeError);
    expect(e.path).toBe('events[0]');
  });
});

describe('parseAppendRequest: refusals name the error and the path', () => {
  it('invalid_stream_name', () => {
    expect(refusal('Order-1', body([ev(ID1)]))).toMatchObject({ error: 'invalid_stream_name', path: 'stream' });
    expect(refusal('order', body([ev(ID1)]))).toMatchObject({ error: 'invalid_stream_name', path: 'stream' });
  });

  it('invalid_body when the body is not an object', () => {
    for (const b of [null, [], 'x', 5, undefined]) {
      expect(refusal('order-1', b)).toMatchObject({ error: 'invalid_body', path: 'body' });
    }
  });

  it('unknown_field at the body level names the field', () => {
    expect(refusal('order-1', { ...body([ev(ID1)]), expected_version: 1 })).toMatchObject({
      error: 'unknown_field',
      path: 'expected_version',
    });
  });

  it('missing_field when expectedVersion is absent', () => {
    expect(refusal('order-1', { events: [ev(ID1)] })).toMatchObject({
      error: 'missing_field',
      path: 'expectedVersion',
    });
  });

  it.each([-2, 1.5, 'latest', null, '3', Number.MAX_SAFE_INTEGER + 1, Number.NaN, true, {}])(
    'invalid_expected_version for %j',
    (value) => {
      expect(refusal('order-1', body([ev(ID1)], value))).toMatchObject({
        error: 'invalid_expected_version',
        path: 'expectedVersion',
      });
    },
  );

  it('invalid_events: not an array, or empty', () => {
    expect(refusal('order-1', { expectedVersion: 'any' })).toMatchObject({ error: 'invalid_events', path: 'events' });
    expect(refusal('order-1', body({} as unknown as unknown[]))).toMatchObject({
      error: 'invalid_events',
      path: 'events',
    });
    expect(refusal('order-1', body([]))).toMatchObject({ error: 'invalid_events', path: 'events' });
  });

  it('invalid_event when an event is not an object', () => {
    expect(refusal('order-1', body([ev(ID1), 'x']))).toMatchObject({ error: 'invalid_event', path: 'events[1]' });
    expect(refusal('order-1', body([null]))).toMatchObject({ error: 'invalid_event', path: 'events[0]' });
    expect(refusal('order-1', body([[ev(ID1)]]))).toMatchObject({ error: 'invalid_event', path: 'events[0]' });
  });

  it('unknown_field at the event level names the event and the field', () => {
    expect(refusal('order-1', body([ev(ID1), ev(ID2, { version: 1 })]))).toMatchObject({
      error: 'unknown_field',
      path: 'events[1].version',
    });
  });

  it.each([
    ['missing', undefined],
    ['a number', 5],
    ['not a uuid', 'event-1'],
    ['a uuid without dashes', ID1.replaceAll('-', '')],
    ['a uuid with braces', `{${ID1}}`],
    ['a uuid with a trailing space', `${ID1} `],
  ])('invalid_event_id when the id is %s', (_what, id) => {
    expect(refusal('order-1', body([ev(ID1), ev(ID2, { id })]))).toMatchObject({
      error: 'invalid_event_id',
      path: 'events[1].id',
    });
  });

  it('duplicate_event_id, ignoring the case of the uuid', () => {
    expect(refusal('order-1', body([ev(ID1), ev(ID2), ev(ID1)]))).toMatchObject({
      error: 'duplicate_event_id',
      path: 'events[2].id',
    });
    expect(refusal('order-1', body([ev(ID1), ev(ID1.toUpperCase())]))).toMatchObject({
      error: 'duplicate_event_id',
      path: 'events[1].id',
    });
  });

  it('invalid_event_type when the type is missing or empty; unknown_event_type lists the known types', () => {
    expect(refusal('order-1', body([ev(ID1, { type: '' })]))).toMatchObject({
      error: 'invalid_event_type',
      path: 'events[0].type',
    });
    expect(refusal('order-1', body([ev(ID1, { type: undefined })]))).toMatchObject({
      error: 'invalid_event_type',
      path: 'events[0].type',
    });
    const unknown = refusal('order-1', body([ev(ID1), ev(ID2, { type: 'OrderShipped' })]));
    expect(unknown).toMatchObject({ error: 'unknown_event_type', path: 'events[1].type' });
    expect(unknown.message).toContain("'OrderShipped'");
    expect(unknown.message).toContain('OrderCancelled, OrderPlaced');
  });

  it('missing_field when data is absent (null is data, and is checked against the schema)', () => {
    expect(refusal('order-1', body([{ id: ID1, type: 'OrderCancelled' }]))).toMatchObject({
      error: 'missing_field',
      path: 'events[0].data',
    });
    expect(refusal('order-1', body([ev(ID1, { data: null })]))).toMatchObject({
      error: 'schema_mismatch',
      path: 'events[0].data',
    });
  });

  it.each([null, [], 'm', 1])('invalid_metadata for %j', (metadata) => {
    expect(refusal('order-1', body([ev(ID1), ev(ID2, { metadata })]))).toMatchObject({
      error: 'invalid_metadata',
      path: 'events[1].metadata',
    });
  });

  it('too_large: a TooLargeError naming the event, counting data and metadata', () => {
    const big = { reason: 'x'.repeat(2000) };
    const e = thrown(() =>
      parseAppendRequest('order-1', body([ev(ID1), ev(ID2), ev(ID3, { data: big })]), catalog, 1000),
    );
    expect(e).toBeInstanceOf(TooLargeError);
    expect(e.path).toBe('events[2]');
    expect(e.message).toMatch(/^events\[2\]: \d+ bytes exceeds the limit of 1000$/);
    // the metadata alone tips it over
    const m = thrown(() =>
      parseAppendRequest('order-1', body([ev(ID1, { metadata: { pad: 'p'.repeat(1000) } })]), catalog, 1000),
    );
    expect(m).toBeInstanceOf(TooLargeError);
    expect(m.path).toBe('events[0]');
  });

  it.each([
    ['a top-level field', { ...placed, total: 'many' }, 'events[1].data.total'],
    ['a missing field', { orderId: 'o', customer: placed.customer, items: [] }, 'events[1].data.total'],
    ['a typo', { ...placed, totl: 1 }, 'events[1].data.totl'],
    [
      'a record inside a union inside a record',
      { ...placed, customer: { name: 'A', address: { town: 'x' } } },
      'events[1].data.customer.address.town',
    ],
    ['an array item', { ...placed, items: [{ sku: 'a', qty: 1 }, { sku: 'b' }] }, 'events[1].data.items[1].qty'],
    ['a map value', { ...placed, labels: { 'two words': 1 } }, 'events[1].data.labels["two words"]'],
    ['a top-level key that is not an identifier', { ...placed, 'two words': 1 }, 'events[1].data["two words"]'],
    ['data that is not an object', [placed], 'events[1].data'],
  ])('schema_mismatch in %s: %s', (_what, data, path) => {
    const r = refusal('order-1', body([ev(ID1), { id: ID2, type: 'OrderPlaced', data }]));
    expect(r).toMatchObject({ error: 'schema_mismatch', path });
    expect(r.message).toContain('does not match OrderPlaced');
  });

  it('checks the stream before the body, and the body fields in order', () => {
    expect(refusal('Bad', null).error).toBe('invalid_stream_name');
    expect(refusal('order-1', { extra: 1, expectedVersion: 'latest' }).error).toBe('unknown_field');
    expect(refusal('order-1', { expectedVersion: 'latest', events: [] }).error).toBe('invalid_expected_version');
  });
});

describe('stream names', () => {
  const ok = (s: string) => expect(() => parseStream(s)).not.toThrow();
  const bad = (s: string) => {
    const e = thrown(() => parseStream(s));
    expect(e).toBeInstanceOf(InvalidRequestError);
    expect((e as InvalidRequestError).error).toBe('invalid_stream_name');
  };

  it('accepts ids of 1 to 200 characters, refuses 0 and 201', () => {
    ok('order-x');
    ok(`order-${'a'.repeat(200)}`);
    bad(`order-${'a'.repeat(201)}`);
    bad('order-');
  });

  it('allows letters, digits and _ . : @ - in the id, and the first dash separates the category', () => {
    ok('order-Ab_9.x:y@z-w');
    expect(parseStream('bank_account-a-b-c')).toEqual({
      stream: 'bank_account-a-b-c',
      category: 'bank_account',
      id: 'a-b-c',
    });
    for (const c of [' ', '/', '#', '?', '%', '+', '|', ',', '=', '{', '}', 'é', '\n']) bad(`order-a${c}b`);
  });

  it('refuses uppercase, dots, dashes-only and empty categories', () => {
    bad('Order-1');
    bad('oRder-1');
    bad('ord.er-1');
    bad('-1');
    bad('');
    ok('order_2024-1');
  });

  const GRAMMAR = /^[a-z0-9_]+-[A-Za-z0-9_.:@-]{1,200}$/;

  it('accepts exactly the documented grammar (fast-check)', () => {
    const chars = fc.constantFrom(...'aZ9_.:@-- /é|A'.split(''));
    const candidate = fc.oneof(
      fc.string({ unit: chars, maxLength: 30 }),
      fc
        .tuple(fc.string({ unit: chars, maxLength: 8 }), fc.integer({ min: 195, max: 205 }))
        .map(([head, n]) => `${head}${'x'.repeat(n)}`),
      fc.string({ maxLength: 30 }),
      // names built from the grammar itself, so that the accepting side is exercised as much as the refusing one
      fc
        .tuple(fc.stringMatching(/^[a-z0-9_]{1,10}$/), fc.stringMatching(/^[A-Za-z0-9_.:@-]{1,200}$/))
        .map(([c, id]) => `${c}-${id}`),
    );
    fc.assert(
      fc.property(candidate, (s) => {
        const parsed = (() => {
          try {
            return parseStream(s);
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidRequestError);
            return undefined;
          }
        })();
        if (parsed) {
          expect(s).toMatch(GRAMMAR);
          expect(`${parsed.category}-${parsed.id}`).toBe(s);
        } else {
          expect(s).not.toMatch(GRAMMAR);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('any valid request round-trips (fast-check)', () => {
  const category = fc.stringMatching(/^[a-z0-9_]{1,12}$/);
  const streamId = fc.stringMatching(/^[A-Za-z0-9_.:@-]{1,40}$/);
  const expected = fc.oneof(
    fc.constantFrom('any' as const, 'no_stream' as const, 'stream_exists' as const),
    fc.integer({ min: -1, max: Number.MAX_SAFE_INTEGER }),
  );
  const text = fc.string({ maxLength: 20 });
  const orderData = fc.record(
    {
      orderId: text,
      // avsc encodes longs as JS numbers only within ±(2^53 - 2): one short of the safe integers at each end.
      total: fc.integer({ min: -9007199254740990, max: 9007199254740990 }),
      note: fc.option(text, { nil: null }),
      customer: fc.record({ name: text, address: fc.option(fc.record({ city: text }), { nil: null }) }),
      items: fc.array(fc.record({ sku: text, qty: fc.integer() }), { maxLength: 4 }),
      labels: fc.dictionary(fc.string({ maxLength: 6 }), text, { maxKeys: 3 }),
    },
    { requiredKeys: ['orderId', 'total', 'customer', 'items'] },
  );
  const event = fc.record(
    {
      id: fc.uuid().chain((u) => fc.constantFrom(u, u.toUpperCase())),
      kind: fc.constantFrom('OrderPlaced', 'OrderCancelled'),
      placed: orderData,
      cancelled: fc.record({ reason: text }),
      metadata: fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
    },
    { requiredKeys: ['id', 'kind', 'placed', 'cancelled'] },
  );
  const request = fc.record({
    category,
    streamId,
    expected,
    events: fc.uniqueArray(event, {
      minLength: 1,
      maxLength: 5,
      selector: (e) => e.id.toLowerCase(),
    }),
  });

  it('keeps stream, expected version, ids (lowercased), types, data, metadata and content hashes', () => {
    fc.assert(
      fc.property(request, (r) => {
        const stream = `${r.category}-${r.streamId}`;
        const events = r.events.map((e) => {
          const out: Record<string, unknown> = {
            id: e.id,
            type: e.kind,
            data: e.kind === 'OrderPlaced' ? e.placed : e.cancelled,
          };
          if (e.metadata !== undefined) out.metadata = e.metadata;
          return out;
        });
        const parsed = parseAppendRequest(stream, { expectedVersion: r.expected, events }, catalog, 1 << 20);
        expect(parsed.stream).toEqual({ stream, category: r.category, id: r.streamId });
        expect(parsed.expected).toBe(r.expected);
        expect(parsed.events).toHaveLength(events.length);
        parsed.events.forEach((p, i) => {
          const given = events[i] as { id: string; type: string; data: unknown; metadata?: Record<string, unknown> };
          expect(p.id).toBe(given.id.toLowerCase());
          expect(p.type).toBe(given.type);
          expect(p.metadata).toEqual(given.metadata);
          expect(p.hash).toBe(contentHash(given.type, given.data, given.metadata));
          const avroType = given.type === 'OrderPlaced' ? orderPlaced : orderCancelled;
          // the wire format: magic byte, the type's schema id, then exactly avsc's own encoding of the data
          expect(p.value[0]).toBe(0);
          expect(p.value.readInt32BE(1)).toBe(given.type === 'OrderPlaced' ? SCHEMA_ID : SCHEMA_ID + 1);
          expect(p.value.subarray(HEADER_BYTES).equals(avroType.toBuffer(given.data))).toBe(true);
        });
      }),
      { numRuns: 300 },
    );
  });
});
