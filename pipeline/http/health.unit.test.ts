import { describe, expect, it } from 'vitest';
import { healthAnswer, liveAnswer } from './health.js';

describe('healthAnswer', () => {
  it('is ok and 200 when every check is ok, or there are none', () => {
    expect(healthAnswer({})).toEqual({ code: 200, body: { status: 'ok', checks: {} } });
    expect(healthAnswer({ a: { status: 'ok' }, b: { status: 'ok' } }).code).toBe(200);
    expect(liveAnswer()).toEqual({ status: 'ok', checks: {} });
  });

  it('takes the worst check: degraded over starting over ok, and answers 503', () => {
    const starting = healthAnswer({ a: { status: 'ok' }, b: { status: 'starting', detail: 'joining' } });
    expect(starting).toEqual({
      code: 503,
      body: { status: 'starting', checks: { a: { status: 'ok' }, b: { status: 'starting', detail: 'joining' } } },
    });
    const degraded = healthAnswer({ a: { status: 'degraded' }, b: { status: 'starting' }, c: { status: 'ok' } });
    expect(degraded.code).toBe(503);
    expect(degraded.body.status).toBe('degraded');
  });
});
