import { describe, expect, it } from 'vitest';
import { capturedLogger } from '../../test/support/capturedLogger.js';
import { loadConfig } from '../config/config.js';
import { ConfigError } from '../errors.js';
import type { LogLevel } from './logger.js';

describe('createLogger', () => {
  it('writes one JSON object a line: level by name, ISO time, name, msg, the fields, errors serialized', () => {
    const { log, lines } = capturedLogger('guard', 'info');
    log.info('guard listening', { url: 'http://127.0.0.1:1' });
    log.warn('sweep failed', { error: new Error('redis gone') });
    expect(lines[0]).toMatchObject({ level: 'info', name: 'guard', msg: 'guard listening', url: 'http://127.0.0.1:1' });
    expect(String(lines[0]?.time)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(lines[1]).toMatchObject({ level: 'warn', error: { type: 'Error', message: 'redis gone' } });
  });

  it('honours the level: nothing below it is written', () => {
    const at = (level: LogLevel) => {
      const { log, lines } = capturedLogger('x', level);
      log.debug('d');
      log.info('i');
      log.warn('w');
      log.error('e');
      return lines.map((l) => l.msg);
    };
    expect(at('debug')).toEqual(['d', 'i', 'w', 'e']);
    expect(at('info')).toEqual(['i', 'w', 'e']);
    expect(at('warn')).toEqual(['w', 'e']);
    expect(at('silent')).toEqual([]);
  });

  it('takes its level from KES_LOG_LEVEL (default info); a bad level fails with the setting named', () => {
    expect(loadConfig({ env: {} }).KES_LOG_LEVEL).toBe('info');
    expect(loadConfig({ env: { KES_LOG_LEVEL: 'debug' } }).KES_LOG_LEVEL).toBe('debug');
    expect(() => loadConfig({ env: { KES_LOG_LEVEL: 'loud' } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { KES_LOG_LEVEL: 'loud' } })).toThrow(/KES_LOG_LEVEL/);
  });
});
