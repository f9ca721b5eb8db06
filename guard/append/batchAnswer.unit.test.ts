import { describe, expect, it } from 'vitest';
import { InvalidRequestError, NotReadyError, WrongExpectedVersionError } from '../../pipeline/errors.js';
import { atomicRefusal, independentAnswer } from './batchAnswer.js';

const outcome = { stream: 'account-1', firstVersion: 0, lastVersion: 1, topic: 't', partition: 2, offset: 9 };

describe('batch answers', () => {
  it('gives each independent item its own status, the request 200', () => {
    const answer = independentAnswer([
      { ok: true, outcome: { ...outcome, duplicate: false } },
      { ok: true, outcome: { ...outcome, duplicate: true } },
      { ok: false, error: new WrongExpectedVersionError('account-2', 3, 5) },
      { ok: false, error: new InvalidRequestError('missing_field', 'appends[3].events[0].data', 'required') },
    ]);
    expect(answer.status).toBe(200);
    expect(answer.results).toEqual([
      { status: 200, ...outcome },
      { status: 200, ...outcome, duplicate: true },
      expect.objectContaining({
        status: 409,
        error: 'wrong_expected_version',
        stream: 'account-2',
        expected: 3,
        actual: 5,
      }),
      expect.objectContaining({ status: 400, error: 'missing_field', path: 'appends[3].events[0].data' }),
    ]);
  });

  it("answers a refused atomic batch with its first failing item's status, the others batch_aborted", () => {
    const answer = atomicRefusal([
      undefined,
      new NotReadyError('rebuilding'),
      new WrongExpectedVersionError('a-1', 1, 2),
    ]);
    expect(answer.status).toBe(503);
    expect(answer.results.map((r) => [r.status, (r as { error?: string }).error])).toEqual([
      [409, 'batch_aborted'],
      [503, 'not_ready'],
      [409, 'wrong_expected_version'],
    ]);
  });
});
