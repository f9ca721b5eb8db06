import { Writable } from 'node:stream';
import { createLogger, type LogLevel } from '../../pipeline/log/logger.js';

/** A real pino logger whose JSON lines are parsed into `lines` instead of written to stderr. */
export function capturedLogger(name: string, level: LogLevel) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { log: createLogger(name, level, sink), lines };
}
