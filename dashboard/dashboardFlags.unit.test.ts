import { describe, expect, it } from 'vitest';
import { UsageError } from '../pipeline/errors.js';
import { parsePort, parseSeconds, parseServiceUrls } from './dashboardFlags.js';

describe('dashboard flags', () => {
  it('splits comma-separated URLs and drops trailing slashes', () => {
    expect(parseServiceUrls('--guard', 'http://127.0.0.1:18090/, http://127.0.0.1:18102')).toEqual([
      'http://127.0.0.1:18090',
      'http://127.0.0.1:18102',
    ]);
  });

  it('names the flag and the bad value', () => {
    expect(() => parseServiceUrls('--guard', '')).toThrow(UsageError);
    expect(() => parseServiceUrls('--projector', 'localhost:18091')).toThrow(
      /--projector: expected an http\(s\) URL, got 'localhost:18091'/,
    );
    expect(() => parseServiceUrls('--guard', 'http://a,::')).toThrow(/--guard: not a URL: '::'/);
  });

  it('reads ports, 0 included', () => {
    expect(parsePort('--port', '0')).toBe(0);
    expect(parsePort('--port', '18095')).toBe(18095);
    expect(() => parsePort('--port', '70000')).toThrow(/--port: not a port: '70000'/);
    expect(() => parsePort('--port', 'x')).toThrow(UsageError);
  });

  it('reads seconds within bounds', () => {
    expect(parseSeconds('--window', '300', 10, 86_400)).toBe(300);
    expect(() => parseSeconds('--window', '5', 10, 86_400)).toThrow(
      /--window: expected whole seconds from 10 to 86400, got '5'/,
    );
  });
});
