import type { HealthAnswer } from '../pipeline/http/health.js';
import type { Frame } from './pipelineFrame.js';

/** What one service's `GET /health/ready` said: its answer, or why there was none. */
export interface ServiceProbe {
  url: string;
  answer: HealthAnswer | undefined;
  error: string | undefined;
}

export type PartStatus = 'ok' | 'starting' | 'degraded' | 'down' | 'unknown';

export interface PartHealth {
  status: PartStatus;
  detail: string;
}

export interface PipelineHealth {
  guard: PartHealth;
  projector: PartHealth;
  redis: PartHealth;
  kafka: PartHealth;
}

const SEVERITY: Record<PartStatus, number> = { ok: 0, unknown: 1, starting: 2, degraded: 3, down: 4 };
const worst = (a: PartStatus, b: PartStatus): PartStatus => (SEVERITY[b] > SEVERITY[a] ? b : a);

/** A service kind's health: the worst of its processes; one that does not answer is down. */
export function servicesHealth(probes: readonly ServiceProbe[]): PartHealth {
  if (probes.length === 0) return { status: 'unknown', detail: 'none configured' };
  let status: PartStatus = 'ok';
  const details: string[] = [];
  for (const probe of probes) {
    if (!probe.answer) {
      status = 'down';
      details.push(`${probe.url}: ${probe.error ?? 'no answer'}`);
      continue;
    }
    status = worst(status, probe.answer.status);
    for (const [name, check] of Object.entries(probe.answer.checks)) {
      if (check.status !== 'ok') details.push(`${probe.url} ${name}: ${check.detail ?? check.status}`);
    }
  }
  return { status, detail: details.join('; ') || `${probes.length} ready` };
}

/**
 * Redis and Kafka as the guards see them: the dashboard has no connection of its own, so it reads the guards'
 * retries (a failed reserve is Redis; a failed produce or commit, or a restarted producer, is Kafka) and their
 * readiness (a guard validating its state needs Redis; one without a transactional writer needs Kafka).
 */
export function storesHealth(
  guards: readonly ServiceProbe[],
  frame: Frame | undefined,
): Pick<PipelineHealth, 'redis' | 'kafka'> {
  const answering = guards.filter((g) => g.answer !== undefined);
  if (answering.length === 0) {
    const unknown = { status: 'unknown' as const, detail: 'no guard answers' };
    return { redis: unknown, kafka: unknown };
  }
  const notReady = answering.flatMap((g) =>
    Object.values(g.answer?.checks ?? {})
      .filter((c) => c.status !== 'ok')
      .map((c) => ({ status: c.status, detail: c.detail ?? '' })),
  );
  const part = (retriesPerSec: number, mentions: RegExp, what: string): PartHealth => {
    const blocked = notReady.find((c) => mentions.test(c.detail));
    if (blocked) return { status: blocked.status, detail: blocked.detail };
    if (retriesPerSec > 0) return { status: 'degraded', detail: `${what} retries: ${retriesPerSec.toFixed(1)}/s` };
    return { status: 'ok', detail: frame ? 'no retries' : 'waiting for a second scrape' };
  };
  return {
    redis: part(frame?.redisRetriesPerSec ?? 0, /redis|validat|state/i, 'reserve'),
    kafka: part(frame?.kafkaRetriesPerSec ?? 0, /kafka|writer|producer|transaction/i, 'produce/commit'),
  };
}

export function pipelineHealth(
  guards: readonly ServiceProbe[],
  projectors: readonly ServiceProbe[],
  frame: Frame | undefined,
): PipelineHealth {
  return { guard: servicesHealth(guards), projector: servicesHealth(projectors), ...storesHealth(guards, frame) };
}
