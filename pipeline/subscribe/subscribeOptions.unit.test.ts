import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { backoffMs, subscriptionSettings } from './subscribeOptions.js';

const base = { categories: ['account'], group: 'mailer' };
const path = (f: () => unknown): string => {
  try {
    f();
  } catch (error) {
    if (error instanceof ConfigError) return error.path;
    throw error;
  }
  return 'no error';
};

describe('subscriptionSettings', () => {
  it('maps categories to topics and fills the defaults', () => {
    const s = subscriptionSettings({ ...base, categories: ['account', 'transfer', 'account'] }, 'kes.events.');
    expect(s.topics).toEqual(['kes.events.account', 'kes.events.transfer']);
    expect(s).toMatchObject({ from: 'start', partitionsAtOnce: 8, streamsAtOnce: 1, sliceRecords: 100 });
    expect(s.retry).toEqual({ retries: 5, initialMs: 100, maxMs: 5_000 });
  });

  it('names the bad option', () => {
    expect(path(() => subscriptionSettings({ ...base, categories: [] }, 'p.'))).toBe('subscribe.categories');
    expect(path(() => subscriptionSettings({ ...base, categories: ['Bad-One'] }, 'p.'))).toBe(
      'subscribe.categories[0]',
    );
    expect(path(() => subscriptionSettings({ ...base, group: 'a b' }, 'p.'))).toBe('subscribe.group');
    expect(path(() => subscriptionSettings({ ...base, from: 'middle' as 'end' }, 'p.'))).toBe('subscribe.from');
    expect(
      path(() => subscriptionSettings({ ...base, from: [{ topic: 'p.other', partition: 0, offset: 1 }] }, 'p.')),
    ).toBe('subscribe.from[0].topic');
    expect(
      path(() => subscriptionSettings({ ...base, from: [{ topic: 'p.account', partition: -1, offset: 1 }] }, 'p.')),
    ).toBe('subscribe.from[0].partition');
    expect(
      path(() => subscriptionSettings({ ...base, from: [{ topic: 'p.account', partition: 0, offset: 1.5 }] }, 'p.')),
    ).toBe('subscribe.from[0].offset');
    const twice = [
      { topic: 'p.account', partition: 0, offset: 1 },
      { topic: 'p.account', partition: 0, offset: 2 },
    ];
    expect(path(() => subscriptionSettings({ ...base, from: twice }, 'p.'))).toBe('subscribe.from[1]');
    expect(path(() => subscriptionSettings({ ...base, streamsAtOnce: 0 }, 'p.'))).toBe('subscribe.streamsAtOnce');
    expect(path(() => subscriptionSettings({ ...base, retry: { retries: -1 } }, 'p.'))).toBe('subscribe.retry.retries');
  });

  it('allows retrying for ever', () => {
    expect(subscriptionSettings({ ...base, retry: { retries: Number.POSITIVE_INFINITY } }, 'p.').retry.retries).toBe(
      Number.POSITIVE_INFINITY,
    );
  });
});

describe('backoffMs', () => {
  const retry = { retries: 5, initialMs: 100, maxMs: 1_000 };
  it('doubles from initialMs up to maxMs, with jitter between half and all of it', () => {
    expect([1, 2, 3, 4, 5].map((a) => backoffMs(retry, a, 1))).toEqual([100, 200, 400, 800, 1_000]);
    expect(backoffMs(retry, 2, 0)).toBe(100);
    expect(backoffMs(retry, 1_000, 1)).toBe(1_000);
  });
});
