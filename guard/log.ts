/** A small structured logger: one line per event on stderr, `KES_LOG_LEVEL` (error|warn|info|debug) filters. */
export type Level = 'error' | 'warn' | 'info' | 'debug';
const ORDER: Record<Level, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface Logger {
  error(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(name: string, level: Level = levelFromEnv()): Logger {
  const write = (at: Level) => (msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[at] > ORDER[level]) return;
    const extra = fields ? ` ${JSON.stringify(fields, errorReplacer)}` : '';
    process.stderr.write(`${new Date().toISOString()} ${at.padEnd(5)} ${name}: ${msg}${extra}\n`);
  };
  return { error: write('error'), warn: write('warn'), info: write('info'), debug: write('debug') };
}

function levelFromEnv(): Level {
  const value = process.env.KES_LOG_LEVEL;
  return value === 'error' || value === 'warn' || value === 'debug' ? value : 'info';
}

function errorReplacer(_key: string, value: unknown): unknown {
  return value instanceof Error ? `${value.name}: ${value.message}` : value;
}
