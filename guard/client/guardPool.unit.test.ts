import { describe, expect, it } from 'vitest';
import { GuardPool } from './guardPool.js';

describe('GuardPool', () => {
  const urls = ['http://g1/', 'http://g2', 'http://g3'];

  it('picks from the preferred guard on, skipping guards marked down until their time is up', () => {
    let now = 1_000;
    const pool = new GuardPool(urls, { downMs: 500, now: () => now });
    expect(pool.urls).toEqual(['http://g1', 'http://g2', 'http://g3']);
    expect(pool.pick(0)).toBe('http://g1');
    expect(pool.pick(4)).toBe('http://g2');
    pool.markDown('http://g2');
    expect(pool.pick(1)).toBe('http://g3');
    now = 1_499;
    expect(pool.pick(1)).toBe('http://g3');
    now = 1_500;
    expect(pool.pick(1)).toBe('http://g2');
  });

  it('an answer brings a guard back at once', () => {
    const pool = new GuardPool(urls, { downMs: 60_000, now: () => 0 });
    pool.markDown('http://g1');
    expect(pool.pick(0)).toBe('http://g2');
    pool.markUp('http://g1');
    expect(pool.pick(0)).toBe('http://g1');
  });

  it('with every guard down, still tries the one marked down first (never gives up on its own bookkeeping)', () => {
    let now = 0;
    const pool = new GuardPool(urls, { downMs: 1_000, now: () => now });
    pool.markDown('http://g2');
    now = 10;
    pool.markDown('http://g3');
    now = 20;
    pool.markDown('http://g1');
    expect(pool.pick(0)).toBe('http://g2');
  });
});
