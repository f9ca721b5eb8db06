import { describe, expect, it } from 'vitest';
import type { Frame } from './pipelineFrame.js';
import { pipelineHealth, type ServiceProbe } from './pipelineHealth.js';

const ok = (url: string): ServiceProbe => ({
  url,
  answer: { status: 'ok', checks: { writes: { status: 'ok' } } },
  error: undefined,
});
const frame = (redis: number, kafka: number) => ({ redisRetriesPerSec: redis, kafkaRetriesPerSec: kafka }) as Frame;

describe('pipelineHealth', () => {
  it('is ok when every service is ready and nothing retries', () => {
    const health = pipelineHealth([ok('g1'), ok('g2')], [ok('p')], frame(0, 0));
    expect(health.guard).toEqual({ status: 'ok', detail: '2 ready' });
    expect(health.redis.status).toBe('ok');
    expect(health.kafka.status).toBe('ok');
  });

  it('calls a service that does not answer down, naming it', () => {
    const health = pipelineHealth([ok('g1'), { url: 'g2', answer: undefined, error: 'ECONNREFUSED' }], [], undefined);
    expect(health.guard).toEqual({ status: 'down', detail: 'g2: ECONNREFUSED' });
    expect(health.projector.status).toBe('unknown');
  });

  it('reads Redis and Kafka trouble from the guards’ retries and readiness', () => {
    expect(pipelineHealth([ok('g')], [], frame(3, 0)).redis).toEqual({
      status: 'degraded',
      detail: 'reserve retries: 3.0/s',
    });
    expect(pipelineHealth([ok('g')], [], frame(0, 1)).kafka.status).toBe('degraded');
    const rebuilding: ServiceProbe = {
      url: 'g',
      answer: {
        status: 'degraded',
        checks: { writes: { status: 'degraded', detail: 'redis unavailable: validating state' } },
      },
      error: undefined,
    };
    const health = pipelineHealth([rebuilding], [], frame(0, 0));
    expect(health.redis.status).toBe('degraded');
    expect(health.kafka.status).toBe('ok');
    expect(health.guard.detail).toContain('redis unavailable');
  });

  it('knows nothing of Redis and Kafka when no guard answers', () => {
    const health = pipelineHealth([{ url: 'g', answer: undefined, error: 'timeout' }], [], undefined);
    expect(health.redis.status).toBe('unknown');
  });
});
