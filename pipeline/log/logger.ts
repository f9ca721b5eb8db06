import { type DestinationStream, type Logger as Pino, pino } from 'pino';
import type { KesConfig } from '../config/config.js';

export type LogLevel = KesConfig['KES_LOG_LEVEL'];

/**
 * What kes's own code logs through: a message and optional fields. Backed by pino (fastify's own logger), so the
 * services' lines and their HTTP servers' request lines are one stream of JSON lines on stderr.
 */
export interface Logger {
  error(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
}

/** A Logger that also hands its pino instance to fastify (`loggerInstance`), so request lines carry the same name. */
export interface KesLogger extends Logger {
  readonly pino: Pino;
}

/**
 * One JSON object a line: `level` as its name, `time` ISO-8601, `name` (guard, projector, transfers), `msg`, then
 * the fields. Errors under `error` or `err` are serialized with their type, message and stack. Written synchronously
 * to stderr by default: the volume is low (request lines are at debug), and a line written just before an exit is
 * not lost.
 */
export function createLogger(name: string, level: LogLevel, destination?: DestinationStream): KesLogger {
  const logger = pino(
    {
      name,
      level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { error: pino.stdSerializers.err, err: pino.stdSerializers.err },
    },
    destination ?? pino.destination({ dest: 2, sync: true }),
  );
  return wrap(logger);
}

function wrap(logger: Pino): KesLogger {
  const at =
    (level: 'error' | 'warn' | 'info' | 'debug') =>
    (msg: string, fields?: Record<string, unknown>): void => {
      if (fields) logger[level](fields, msg);
      else logger[level](msg);
    };
  return { pino: logger, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}
