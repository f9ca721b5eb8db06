import { ConfigError } from '../errors.js';
import { isCategory, topicOf } from '../events/streamName.js';
import type { StartFrom } from './position.js';

/** How a handler that throws is tried again before the subscription stops. */
export interface HandlerRetry {
  /** Tries after the first one. @default 5 */
  retries: number;
  /** Wait before the first retry, doubled each time up to maxMs (with jitter). @default 100 */
  initialMs: number;
  /** @default 5000 */
  maxMs: number;
}

export interface SubscriptionSettings {
  topics: string[];
  group: string;
  from: StartFrom;
  partitionsAtOnce: number;
  streamsAtOnce: number;
  sliceRecords: number;
  sessionTimeoutMs: number;
  retry: HandlerRetry;
}

export interface SubscribeShape {
  categories: readonly string[];
  group: string;
  from?: StartFrom;
  partitionsAtOnce?: number;
  streamsAtOnce?: number;
  sliceRecords?: number;
  sessionTimeoutMs?: number;
  retry?: Partial<HandlerRetry>;
}

const GROUP = /^[A-Za-z0-9._-]{1,200}$/;

function count(path: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) && value !== Number.POSITIVE_INFINITY) {
    throw new ConfigError(path, `must be a whole number, got ${String(value)}`);
  }
  if (value < min || value > max) throw new ConfigError(path, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** Checks a subscription's options once, before anything connects; a bad one names its path in the error. */
export function subscriptionSettings(options: SubscribeShape, topicPrefix: string): SubscriptionSettings {
  if (!Array.isArray(options.categories) || options.categories.length === 0) {
    throw new ConfigError('subscribe.categories', 'name at least one category');
  }
  options.categories.forEach((category, i) => {
    if (typeof category !== 'string' || !isCategory(category)) {
      throw new ConfigError(
        `subscribe.categories[${i}]`,
        `'${String(category)}' is not a category (1 to 100 lowercase letters, digits or _)`,
      );
    }
  });
  if (typeof options.group !== 'string' || !GROUP.test(options.group)) {
    throw new ConfigError('subscribe.group', 'a group is 1 to 200 letters, digits, . _ or -');
  }
  const topics = [...new Set(options.categories.map((c) => topicOf(topicPrefix, c)))];
  const from = options.from ?? 'start';
  if (from !== 'start' && from !== 'end') {
    if (!Array.isArray(from)) throw new ConfigError('subscribe.from', "'start', 'end' or a list of positions");
    from.forEach((p, i) => {
      const path = `subscribe.from[${i}]`;
      if (!p || typeof p !== 'object') throw new ConfigError(path, 'a position is { topic, partition, offset }');
      if (!topics.includes(p.topic)) {
        throw new ConfigError(`${path}.topic`, `'${String(p.topic)}' is not a topic of the subscribed categories`);
      }
      if (!Number.isSafeInteger(p.partition) || p.partition < 0) {
        throw new ConfigError(`${path}.partition`, `must be a partition number, got ${String(p.partition)}`);
      }
      if (!Number.isSafeInteger(p.offset) || p.offset < 0) {
        throw new ConfigError(`${path}.offset`, `must be an offset (0 or more), got ${String(p.offset)}`);
      }
      if (from.findIndex((q) => q.topic === p.topic && q.partition === p.partition) !== i) {
        throw new ConfigError(path, `${p.topic}[${p.partition}] is listed twice`);
      }
    });
  }
  const retry = options.retry ?? {};
  return {
    topics,
    group: options.group,
    from,
    partitionsAtOnce: count('subscribe.partitionsAtOnce', options.partitionsAtOnce, 8, 1, 1024),
    streamsAtOnce: count('subscribe.streamsAtOnce', options.streamsAtOnce, 1, 1, 1024),
    sliceRecords: count('subscribe.sliceRecords', options.sliceRecords, 100, 1, 100_000),
    sessionTimeoutMs: count('subscribe.sessionTimeoutMs', options.sessionTimeoutMs, 10_000, 1_000, 300_000),
    retry: {
      retries: count('subscribe.retry.retries', retry.retries, 5, 0, Number.POSITIVE_INFINITY),
      initialMs: count('subscribe.retry.initialMs', retry.initialMs, 100, 0, 600_000),
      maxMs: count('subscribe.retry.maxMs', retry.maxMs, 5_000, 0, 600_000),
    },
  };
}

/** The wait before retry `attempt` (1 for the first retry): doubling from initialMs, capped, with jitter. */
export function backoffMs(retry: HandlerRetry, attempt: number, random = Math.random()): number {
  const base = Math.min(retry.maxMs, retry.initialMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(base * (0.5 + random / 2));
}
