import type { IncomingMessage } from 'node:http';
import type { Readable, Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { HttpFacadeError } from './facadeErrors.js';

/**
 * Reads the body, decompressing it per Content-Encoding. Past `limit` bytes it stops keeping them but reads on to
 * the end (up to a hard cap), so that the client, still sending, gets the 413 answer rather than a broken pipe.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const encoding = (req.headers['content-encoding'] ?? '').trim().toLowerCase();
  let source: Readable = req;
  if (encoding === 'gzip' || encoding === 'x-gzip') source = createGunzip();
  else if (encoding === 'deflate') source = createInflate();
  else if (encoding === 'br') source = createBrotliDecompress();
  else if (encoding !== '' && encoding !== 'identity') {
    req.resume();
    throw new HttpFacadeError(89, 'UNKNOWN_COMPRESSION_METHOD', 400, `Unknown Content-Encoding '${encoding}'`);
  }
  if (source !== req) {
    // Not stream.pipeline: a decompression error must leave the request (and its socket) open for the answer.
    const decompressor = source as Transform;
    req.on('error', (error) => decompressor.destroy(error));
    req.pipe(decompressor);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const drainCap = limit + DRAIN_CAP_BYTES;
  try {
    for await (const chunk of source) {
      size += (chunk as Buffer).length;
      if (size <= limit) chunks.push(chunk as Buffer);
      else if (size > drainCap) {
        req.destroy();
        break;
      }
    }
  } catch (error) {
    if (source !== req && !req.readableAborted) {
      req.unpipe();
      req.resume();
      throw new HttpFacadeError(
        271,
        'CANNOT_DECOMPRESS',
        400,
        `Cannot decompress the request body (${encoding}): ${(error as Error).message}`,
      );
    }
    throw error;
  }
  if (size > limit) throw tooLarge(size, limit);
  return Buffer.concat(chunks, size);
}

/** How much of a too-large body is read and thrown away before the connection is cut instead. */
const DRAIN_CAP_BYTES = 1 << 30;

function tooLarge(size: number, limit: number): HttpFacadeError {
  return new HttpFacadeError(
    290,
    'LIMIT_EXCEEDED',
    413,
    `Request body of ${size} bytes exceeds the embedded facade's limit of ${limit} bytes (KES_CLICKHOUSE_EMBEDDED_MAX_BODY_BYTES); send smaller batches`,
  );
}
