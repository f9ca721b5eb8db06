import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, UnauthorizedError } from '../../pipeline/errors.js';
import { ApiKeys } from './apiKeys.js';

const KEYS = [
  { key: 'orders-secret-1', service: 'orders', categories: ['order', 'cart'] },
  { key: 'admin-secret-1', service: 'admin', categories: ['*'] },
  { key: 'billing-secret', service: 'billing', categories: ['invoice_2024'] },
];

const dir = mkdtempSync(join(tmpdir(), 'kes-apikeys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configError(setting: string): ConfigError {
  try {
    ApiKeys.parse(setting);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('ApiKeys.parse', () => {
  it('reads an inline JSON array', () => {
    const keys = ApiKeys.parse(JSON.stringify(KEYS));
    expect(keys.authenticate('Bearer orders-secret-1', undefined).service).toBe('orders');
  });

  it('reads @file', () => {
    const file = join(dir, 'keys.json');
    writeFileSync(file, JSON.stringify(KEYS));
    const keys = ApiKeys.parse(`@${file}`);
    expect(keys.authenticate(undefined, 'billing-secret')).toEqual({
      service: 'billing',
      categories: new Set(['invoice_2024']),
      commands: new Set(),
    });
  });

  it('reads the categories a key may send commands to (guard/append/authority.ts decides with them)', () => {
    const keys = ApiKeys.parse(
      JSON.stringify([
        { key: 'transfers-secret', service: 'transfers', categories: ['transfer'], commands: ['account'] },
      ]),
    );
    expect(keys.authenticate('Bearer transfers-secret', undefined)).toEqual({
      service: 'transfers',
      categories: new Set(['transfer']),
      commands: new Set(['account']),
    });
  });

  it('a read-only key owns no category and lists what it reads', () => {
    const keys = ApiKeys.parse(
      JSON.stringify([{ key: 'reports-secret', service: 'reports', categories: [], reads: ['account'] }]),
    );
    expect(keys.authenticate('Bearer reports-secret', undefined)).toEqual({
      service: 'reports',
      categories: new Set(),
      commands: new Set(),
      reads: new Set(['account']),
    });
  });

  it('a commands entry that is not a category names its path', () => {
    const e = configError(
      JSON.stringify([{ key: 'abcdefgh', service: 's', categories: ['a'], commands: ['Bad-Cat'] }]),
    );
    expect(e.path).toBe('KES_API_KEYS[0.commands.0]');
  });

  it('a file that cannot be read names the setting and the file', () => {
    const missing = join(dir, 'nope.json');
    const e = configError(`@${missing}`);
    expect(e.path).toBe('KES_API_KEYS');
    expect(e.message).toContain(`cannot read ${missing}`);
  });

  it('text that is not JSON names the setting, or the file it came from', () => {
    const inline = configError('[{key:');
    expect(inline.path).toBe('KES_API_KEYS');
    expect(inline.message).toMatch(/KES_API_KEYS is not JSON/);
    const file = join(dir, 'bad.json');
    writeFileSync(file, 'not json');
    const fromFile = configError(`@${file}`);
    expect(fromFile.path).toBe('KES_API_KEYS');
    expect(fromFile.message).toContain(`${file} is not JSON`);
  });

  it.each([
    ['an empty list', [], 'KES_API_KEYS[]'],
    ['not a list', { key: 'x' }, 'KES_API_KEYS[]'],
    ['a short key', [{ key: 'short', service: 's', categories: ['a'] }], 'KES_API_KEYS[0.key]'],
    ['a missing service', [KEYS[0], { key: 'long-enough', categories: ['a'] }], 'KES_API_KEYS[1.service]'],
    ['an empty service', [{ key: 'long-enough', service: '', categories: ['a'] }], 'KES_API_KEYS[0.service]'],
    ['no categories', [{ key: 'long-enough', service: 's', categories: [] }], 'KES_API_KEYS[0.categories]'],
    [
      'an uppercase category',
      [{ key: 'long-enough', service: 's', categories: ['order', 'Order'] }],
      'KES_API_KEYS[0.categories.1]',
    ],
    ['a dashed category', [{ key: 'long-enough', service: 's', categories: ['a-b'] }], 'KES_API_KEYS[0.categories.0]'],
    ['a wildcard prefix', [{ key: 'long-enough', service: 's', categories: ['ord*'] }], 'KES_API_KEYS[0.categories.0]'],
  ])('refuses %s, naming the path', (_what, value, path) => {
    const e = configError(JSON.stringify(value));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.path).toBe(path);
    expect(e.code).toBe('KES_CONFIG_INVALID');
  });
});

describe('ApiKeys.authenticate', () => {
  const keys = ApiKeys.parse(JSON.stringify(KEYS));

  it('takes Authorization: Bearer (any case, surrounding spaces trimmed) and x-api-key', () => {
    expect(keys.authenticate('Bearer orders-secret-1', undefined).service).toBe('orders');
    expect(keys.authenticate('bearer orders-secret-1', undefined).service).toBe('orders');
    expect(keys.authenticate('BEARER   orders-secret-1  ', undefined).service).toBe('orders');
    expect(keys.authenticate(undefined, 'admin-secret-1').service).toBe('admin');
  });

  it('x-api-key wins over Authorization when both are sent', () => {
    expect(keys.authenticate('Bearer orders-secret-1', 'admin-secret-1').service).toBe('admin');
  });

  it("reads a request's headers; an x-api-key sent twice counts by its first value", () => {
    expect(keys.authenticateHeaders({ authorization: 'Bearer orders-secret-1' }).service).toBe('orders');
    expect(keys.authenticateHeaders({ 'x-api-key': ['admin-secret-1', 'orders-secret-1'] }).service).toBe('admin');
    expect(() => keys.authenticateHeaders({})).toThrow(UnauthorizedError);
  });

  it.each([
    ['no header', undefined, undefined],
    ['an unknown bearer key', 'Bearer orders-secret-2', undefined],
    ['an unknown x-api-key', undefined, 'nope-nope-nope'],
    ['another scheme', 'Basic orders-secret-1', undefined],
    ['the key without a scheme', 'orders-secret-1', undefined],
    ['Bearer with nothing after it', 'Bearer ', undefined],
    ['a key that differs in case', 'Bearer ORDERS-SECRET-1', undefined],
  ])('refuses %s with UnauthorizedError', (_what, authorization, apiKey) => {
    expect(() => keys.authenticate(authorization, apiKey)).toThrow(UnauthorizedError);
  });
});

describe('ApiKeys: ambiguous settings and headers', () => {
  it('refuses the same key listed twice (which service would it be?)', () => {
    const twice = JSON.stringify([
      { key: 'same-key-1', service: 'a', categories: ['x'] },
      { key: 'same-key-1', service: 'b', categories: ['*'] },
    ]);
    expect(() => ApiKeys.parse(twice)).toThrow(ConfigError);
    expect(() => ApiKeys.parse(twice)).toThrow(/KES_API_KEYS\[1\]\.key: the same key is listed twice/);
  });

  it('ignores an empty x-api-key header in favour of the bearer key', () => {
    const keys = ApiKeys.parse(JSON.stringify([{ key: 'bearer-key-1', service: 'a', categories: ['x'] }]));
    expect(keys.authenticate('Bearer bearer-key-1', '').service).toBe('a');
    expect(() => keys.authenticate(undefined, '  ')).toThrow(UnauthorizedError);
  });
});
