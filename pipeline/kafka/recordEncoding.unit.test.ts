import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

// kafkajs's record encoder is patched (patches/kafkajs+2.2.4.patch) to write a record's headers into one encoder
// sized for the record, instead of one zero-filled 512-byte encoder per header. This pins that the bytes on the wire
// are the ones the original encoder wrote.
const require = createRequire(import.meta.url);
type Encoded = { buffer: Buffer; buf: Buffer; offset: number };
type RecordInput = {
  offsetDelta?: number;
  timestampDelta?: number;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, string | string[]>;
};
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (r: RecordInput) => Encoded;
const Encoder = require('kafkajs/src/protocol/encoder.js') as {
  new (): Encoded & Record<string, (...args: unknown[]) => unknown>;
  sizeOfVarLong(n: number): number;
  sizeOfVarInt(n: number): number;
  sizeOfVarIntBytes(b: Buffer | null): number;
};
const Header = require('kafkajs/src/protocol/recordBatch/header/v0/index.js') as (h: {
  key: string;
  value: string;
}) => Encoded;

/** The unpatched kafkajs 2.2.4 record encoder, kept as the reference. */
function originalRecord({ offsetDelta = 0, timestampDelta = 0, key, value, headers = {} }: RecordInput): Buffer {
  const headersArray = Object.keys(headers).flatMap((k) => {
    const v = headers[k] as string | string[];
    return Array.isArray(v) ? v.map((value) => ({ key: k, value })) : [{ key: k, value: v }];
  });
  let sizeOfHeaders = Encoder.sizeOfVarInt(headersArray.length);
  for (const h of headersArray) {
    const keySize = Buffer.byteLength(h.key);
    const valueSize = Buffer.byteLength(h.value);
    sizeOfHeaders += Encoder.sizeOfVarInt(keySize) + keySize + Encoder.sizeOfVarInt(valueSize) + valueSize;
  }
  const sizeOfBody =
    1 +
    Encoder.sizeOfVarLong(timestampDelta) +
    Encoder.sizeOfVarInt(offsetDelta) +
    Encoder.sizeOfVarIntBytes(key) +
    Encoder.sizeOfVarIntBytes(value) +
    sizeOfHeaders;
  const e = new Encoder() as unknown as Record<string, (...args: unknown[]) => unknown> & Encoded;
  e.writeVarInt?.(sizeOfBody);
  e.writeInt8?.(0);
  e.writeVarLong?.(timestampDelta);
  e.writeVarInt?.(offsetDelta);
  e.writeVarIntBytes?.(key);
  e.writeVarIntBytes?.(value);
  e.writeVarIntArray?.(headersArray.map(Header));
  return e.buffer;
}

describe('kafkajs record encoding (patched)', () => {
  it('writes the bytes the original encoder wrote, for a kes record with CloudEvents headers', () => {
    const record: RecordInput = {
      offsetDelta: 3,
      timestampDelta: 0,
      key: Buffer.from('account-42'),
      value: Buffer.from([0, 0, 0, 0, 7, 2, 40]),
      headers: {
        ce_specversion: '1.0',
        ce_id: '0f0e8a4c-9d8b-4f4e-8f7a-2b1c3d4e5f60',
        ce_source: '/kes/account',
        ce_type: 'MoneyDeposited',
        ce_subject: 'account-42',
        ce_time: '2026-12-03T18:00:00.000Z',
        'kes-version': '17',
        'kes-hash': 'a'.repeat(64),
      },
    };
    expect(Record(record).buffer.equals(originalRecord(record))).toBe(true);
  });

  it('writes the same bytes for any keys, values, headers (unicode, empty, repeated) and deltas', () => {
    const bytes = fc.option(
      fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)),
      { nil: null },
    );
    const headers = fc.dictionary(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.array(fc.string({ maxLength: 20 }), { maxLength: 3 })),
      { maxKeys: 12 },
    );
    fc.assert(
      fc.property(
        fc.nat(100_000),
        fc.nat(1_000_000),
        bytes,
        bytes,
        headers,
        (offsetDelta, timestampDelta, key, value, h) => {
          const record = { offsetDelta, timestampDelta, key, value, headers: h };
          const encoded = Record(record);
          expect(encoded.buffer.equals(originalRecord(record))).toBe(true);
          // The buffer is not zeroed, so every byte of it must be written: none of an earlier allocation's is sent.
          expect(encoded.offset).toBe(encoded.buf.length);
        },
      ),
    );
  });
});
