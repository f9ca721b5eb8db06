import { UsageError } from '../pipeline/errors.js';

/** `--guard http://a:1,http://b:2`: the base URLs, trailing slashes dropped; a bad one is named with its flag. */
export function parseServiceUrls(flag: string, value: string): string[] {
  const urls = value
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '');
  if (urls.length === 0) throw new UsageError(`${flag}: expected one or more URLs, comma-separated, got '${value}'`);
  return urls.map((u) => {
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      throw new UsageError(`${flag}: not a URL: '${u}'`, { flag });
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new UsageError(`${flag}: expected an http(s) URL, got '${u}'`, { flag });
    }
    return u.replace(/\/+$/, '');
  });
}

/** `--port`: 0 (any free port) to 65535. */
export function parsePort(flag: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new UsageError(`${flag}: not a port: '${value}'`, { flag });
  return n;
}

/** A whole number of seconds within [min, max]. */
export function parseSeconds(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new UsageError(`${flag}: expected whole seconds from ${min} to ${max}, got '${value}'`, { flag });
  }
  return n;
}
