import { describe, expect, it } from 'vitest';
import { KesError } from '../../pipeline/errors.js';
import { PostgresWrongExpectedVersionError, wrongVersionOf } from './messageStoreErrors.js';
import { checkSchemaName } from './messageStoreSql.js';

describe('wrongVersionOf', () => {
  it("reads write_message's refusal: stream, expected and actual version", () => {
    const error = wrongVersionOf(new Error('Wrong expected version: -1 (Stream: account-1, Stream Version: 4)'));
    expect(error).toBeInstanceOf(PostgresWrongExpectedVersionError);
    expect(error).toBeInstanceOf(KesError);
    expect(error).toMatchObject({ stream: 'account-1', expected: -1, actual: 4, retriable: false });
    expect(error?.code).toBe('KES_WRONG_EXPECTED_VERSION');
  });

  it('keeps a stream name that itself holds commas and parentheses', () => {
    const error = wrongVersionOf(new Error('Wrong expected version: 2 (Stream: a (b), c, Stream Version: -1)'));
    expect(error).toMatchObject({ stream: 'a (b), c', expected: 2, actual: -1 });
  });

  it('is undefined for any other error', () => {
    expect(wrongVersionOf(new Error('duplicate key value violates unique constraint'))).toBeUndefined();
    expect(wrongVersionOf('Wrong expected version: 1 (Stream: s, Stream Version: 2)')).toBeUndefined();
  });
});

describe('checkSchemaName', () => {
  it('accepts lower-case identifiers and refuses anything that could break out of the SQL', () => {
    expect(checkSchemaName('lab_ms_1a')).toBe('lab_ms_1a');
    for (const bad of ['', 'Lab', '1abc', 'a;drop', 'a b', 'x'.repeat(64)]) {
      expect(() => checkSchemaName(bad), bad).toThrow(/lower-case letters/);
    }
  });
});
