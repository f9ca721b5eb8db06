import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../errors.js';
import { buildEventCatalog } from './eventCatalog.js';

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
    { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['OPEN', 'PAID'] }, default: 'OPEN' },
  ],
});

const orderCancelled = avro.Type.forSchema({
  type: 'record',
  name: 'OrderCancelled',
  namespace: 'kes.test',
  fields: [{ name: 'reason', type: 'string' }],
});

const valid = {
  orderId: 'o-1',
  total: 1999,
  customer: { name: 'Ada', address: { city: 'London' } },
  items: [
    { sku: 'a', qty: 1 },
    { sku: 'b', qty: 2 },
  ],
};

function catalog(fetchSchema: (id: number) => Promise<string> = () => Promise.reject(new Error('no registry'))) {
  return buildEventCatalog(
    [
      { type: 'OrderPlaced', avroType: orderPlaced, schemaId: 41 },
      { type: 'OrderCancelled', avroType: orderCancelled, schemaId: 300_000 },
    ],
    fetchSchema,
  );
}

describe('event catalog: validate', () => {
  const c = catalog();

  it('accepts valid data, leaving out fields that have defaults', () => {
    expect(c.validate('OrderPlaced', valid)).toBeNull();
    expect(c.validate('OrderPlaced', { ...valid, note: 'gift', labels: { color: 'red' }, status: 'PAID' })).toBeNull();
    expect(c.validate('OrderPlaced', { ...valid, customer: { name: 'Ada', address: null } })).toBeNull();
  });

  it.each([
    ['a wrong type', { ...valid, orderId: 7 }, 'orderId', /expected string, got number 7/],
    ['a missing required field', { orderId: 'o', customer: valid.customer, items: [] }, 'total', /required long/],
    ['an unknown field (a typo)', { ...valid, totl: 5 }, 'totl', /unknown field; OrderPlaced has orderId, total/],
    [
      'a field inside a nested record',
      { ...valid, customer: { name: 1, address: null } },
      'customer.name',
      /expected string/,
    ],
    [
      'an unknown field in a nested record',
      { ...valid, customer: { name: 'A', address: null, age: 3 } },
      'customer.age',
      /unknown field/,
    ],
    [
      'a record inside a union',
      { ...valid, customer: { name: 'A', address: { town: 'x' } } },
      'customer.address.town',
      /unknown field/,
    ],
    [
      'a record item of an array',
      { ...valid, items: [{ sku: 'a', qty: 1 }, { sku: 'b', qty: 1 }, { qty: 1 }] },
      'items[2].sku',
      /required string/,
    ],
    [
      'an item of the wrong type',
      { ...valid, items: [{ sku: 'a', qty: 1.5 }] },
      'items[0].qty',
      /expected int \(an integer\), got number 1\.5/,
    ],
    ['not an array', { ...valid, items: { sku: 'a' } }, 'items', /expected an array, got an object/],
    ['a union value of no branch', { ...valid, note: 5 }, 'note', /expected one of null \| string, got number 5/],
    ['a map value', { ...valid, labels: { 'two words': 1 } }, 'labels["two words"]', /expected string/],
    ['an enum symbol', { ...valid, status: 'LOST' }, 'status', /expected one of OPEN, PAID, got string "LOST"/],
    ['a long beyond the safe integers', { ...valid, total: 2 ** 60 }, 'total', /beyond the safe integer range/],
    [
      'a long that is not an integer',
      { ...valid, total: 19.99 },
      'total',
      /expected long \(an integer\), got number 19\.99/,
    ],
    ['a long given as a string', { ...valid, total: '1999' }, 'total', /expected long/],
    ['null for a required field', { ...valid, orderId: null }, 'orderId', /expected string, got null/],
  ])('finds %s and says where', (_what, data, path, message) => {
    const problem = c.validate('OrderPlaced', data);
    expect(problem?.path).toBe(path);
    expect(problem?.message).toMatch(message);
  });

  it("reports the root ('') when the data is not an object", () => {
    expect(c.validate('OrderCancelled', [])).toEqual({
      path: '',
      message: 'expected an object (OrderCancelled), got an array',
    });
    expect(c.validate('OrderCancelled', 'x')?.path).toBe('');
  });

  it('knows its types', () => {
    expect(c.types()).toEqual(['OrderCancelled', 'OrderPlaced']);
    expect(c.has('OrderPlaced')).toBe(true);
    expect(c.has('OrderShipped')).toBe(false);
    expect(c.validate('OrderShipped', {})).toEqual({ path: '', message: "unknown event type 'OrderShipped'" });
    expect(c.schemaId('OrderCancelled')).toBe(300_000);
    expect(() => c.schemaId('OrderShipped')).toThrow(InvalidRequestError);
  });
});

describe('event catalog: wire format', () => {
  it('encodes 0x00, the 4-byte big-endian schema id, then the Avro body, and decodes it back', async () => {
    const c = catalog();
    const bytes = c.encode('OrderCancelled', { reason: 'changed my mind' });
    expect(bytes.subarray(0, 5)).toEqual(Buffer.from([0, 0x00, 0x04, 0x93, 0xe0]));
    expect(bytes.readInt32BE(1)).toBe(300_000);
    expect(bytes.subarray(5)).toEqual(orderCancelled.toBuffer({ reason: 'changed my mind' }));
    expect(await c.decode(bytes)).toEqual({ schemaId: 300_000, data: { reason: 'changed my mind' } });

    const placed = c.encode('OrderPlaced', { ...valid, labels: { a: 'b' } });
    expect(placed.readInt32BE(1)).toBe(41);
    expect((await c.decode(placed)).data).toEqual({ ...valid, note: null, labels: { a: 'b' }, status: 'OPEN' });
  });

  it('encodes values larger than its scratch buffer', async () => {
    const c = catalog();
    const reason = 'x'.repeat(200_000);
    const bytes = c.encode('OrderCancelled', { reason });
    expect(bytes.length).toBeGreaterThan(200_005);
    expect((await c.decode(bytes)).data).toEqual({ reason });
    expect((await c.decode(c.encode('OrderCancelled', { reason: 'short' }))).data).toEqual({ reason: 'short' });
  });

  it('refuses to encode invalid data or an unknown type, saying where', () => {
    const c = catalog();
    let error: unknown;
    try {
      c.encode('OrderPlaced', { ...valid, items: [{ sku: 'a', qty: 'one' }] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect((error as InvalidRequestError).path).toBe('items[0].qty');
    expect(() => c.encode('Nope', {})).toThrow(/unknown event type 'Nope'/);
  });

  it('decodes an id it does not know with the schema the registry gives for it, fetching each id once', async () => {
    const older = avro.Type.forSchema({ type: 'record', name: 'OrderCancelled', namespace: 'kes.test', fields: [] });
    const fetched: number[] = [];
    const c = catalog(async (id) => {
      fetched.push(id);
      return JSON.stringify(older.schema());
    });
    const old = Buffer.concat([Buffer.from([0, 0, 0, 0, 7]), older.toBuffer({})]);
    const [a, b] = await Promise.all([c.decode(old), c.decode(old)]);
    expect(a).toEqual({ schemaId: 7, data: {} });
    expect(b).toEqual(a);
    expect((await c.decode(old)).schemaId).toBe(7);
    expect(fetched).toEqual([7]);
  });

  it('asks again for an id whose fetch failed', async () => {
    let calls = 0;
    const c = catalog(async () => {
      calls += 1;
      if (calls === 1) throw new Error('registry down');
      return JSON.stringify(orderCancelled.schema());
    });
    const value = Buffer.concat([Buffer.from([0, 0, 0, 0, 9]), orderCancelled.toBuffer({ reason: 'r' })]);
    await expect(c.decode(value)).rejects.toThrow(/registry down/);
    expect((await c.decode(value)).data).toEqual({ reason: 'r' });
  });

  it('refuses values that are not in the wire format', async () => {
    const c = catalog();
    await expect(c.decode(Buffer.from([0, 0]))).rejects.toThrow(/shorter than the 5-byte header/);
    await expect(c.decode(Buffer.from([1, 0, 0, 0, 41, 0]))).rejects.toThrow(/magic byte is 1/);
    await expect(c.decode(Buffer.from([0, 0, 0, 0, 41, 0x7f]))).rejects.toThrow(/does not decode with schema id 41/);
  });
});
