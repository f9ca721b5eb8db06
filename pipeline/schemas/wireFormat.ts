import type { Type } from 'avsc';

/**
 * The Confluent wire format: magic byte 0, the schema id as a 4-byte big-endian integer, then the Avro binary body.
 * Encoding writes header and body into one scratch buffer and copies the result out once: no per-call allocation
 * beyond the returned Buffer.
 */

export const MAGIC_BYTE = 0;
export const HEADER_BYTES = 5;

let scratch = Buffer.allocUnsafe(64 * 1024);

export function encodeWire(schemaId: number, type: Type, value: unknown): Buffer {
  for (;;) {
    scratch[0] = MAGIC_BYTE;
    scratch.writeInt32BE(schemaId, 1);
    // avsc returns the end position, or a negative number (how many bytes were missing) when the buffer is too small.
    const end = type.encode(value, scratch, HEADER_BYTES);
    if (end >= 0) {
      const out = Buffer.allocUnsafe(end);
      scratch.copy(out, 0, 0, end);
      return out;
    }
    scratch = Buffer.allocUnsafe(Math.max(scratch.length * 2, scratch.length - end));
  }
}

/** The schema id of a wire-format value, or a reason it is not one. */
export function readSchemaId(value: Buffer): number | { error: string } {
  if (value.length < HEADER_BYTES) return { error: `${value.length} bytes, shorter than the 5-byte header` };
  if (value[0] !== MAGIC_BYTE) return { error: `magic byte is ${value[0]}, expected 0` };
  return value.readInt32BE(1);
}
