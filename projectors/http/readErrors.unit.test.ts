import Ajv2020 from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { readFailedBody } from './readErrors.js';
import { readFailed } from './routeSchemas.js';

describe('readFailedBody', () => {
  const validate = new Ajv2020.default({ strict: false }).compile(readFailed);

  it('names the cause, says retriable, and is the body documented for 500', () => {
    const body = readFailedBody(new Error('ClickHouse server is not reachable at http://127.0.0.1:1'));
    expect(body).toEqual({
      error: 'read_failed',
      message: 'the read models could not be read: ClickHouse server is not reachable at http://127.0.0.1:1',
      retriable: true,
    });
    expect(validate(body), JSON.stringify(validate.errors)).toBe(true);
  });

  it('takes a thrown value that is not an Error', () => {
    const body = readFailedBody('socket hang up');
    expect(body.message).toBe('the read models could not be read: socket hang up');
    expect(validate(body)).toBe(true);
  });
});
