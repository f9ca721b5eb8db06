/**
 * One health answer for every kes process (guard, projector, transfers), on `GET /health/live` and
 * `GET /health/ready`: `{ status, checks }`. `status` is the worst of the checks: `ok` (200), `starting` (503: not
 * yet able to serve) or `degraded` (503: it was serving and lost something it needs). `checks` names each part with
 * its own status and, when not ok, why. Liveness has no checks: answering at all is the proof.
 */
export type HealthStatus = 'ok' | 'starting' | 'degraded';

export interface HealthCheck {
  status: HealthStatus;
  /** Why the part is not ok (or what it is doing), for a human reading the probe. */
  detail?: string;
}

export interface HealthAnswer {
  status: HealthStatus;
  checks: Record<string, HealthCheck>;
}

const SEVERITY: Record<HealthStatus, number> = { ok: 0, starting: 1, degraded: 2 };

/** The answer for `checks`, and its HTTP status: 200 only when every check is ok. */
export function healthAnswer(checks: Record<string, HealthCheck>): { code: 200 | 503; body: HealthAnswer } {
  let status: HealthStatus = 'ok';
  for (const check of Object.values(checks)) if (SEVERITY[check.status] > SEVERITY[status]) status = check.status;
  return { code: status === 'ok' ? 200 : 503, body: { status, checks } };
}

/** `GET /health/live`: the process answers. */
export const liveAnswer = (): HealthAnswer => ({ status: 'ok', checks: {} });

const statusSchema = { type: 'string', enum: ['ok', 'starting', 'degraded'] } as const;

/** The JSON schema of a health answer, as the OpenAPI documents show it. */
export const healthSchema = {
  type: 'object',
  required: ['status', 'checks'],
  additionalProperties: false,
  properties: {
    status: statusSchema,
    checks: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        required: ['status'],
        additionalProperties: false,
        properties: { status: statusSchema, detail: { type: 'string' } },
      },
    },
  },
} as const;

/** Route schemas of the two probes (tag `health`). */
export const healthRoutes = {
  live: {
    tags: ['health'],
    summary: 'Liveness: the process answers',
    response: { 200: { description: 'alive', ...healthSchema } },
  },
  ready: {
    tags: ['health'],
    summary: 'Readiness: every check ok',
    response: {
      200: { description: 'every check ok', ...healthSchema },
      503: { description: 'starting, or degraded: see the checks (Retry-After)', ...healthSchema },
    },
  },
} as const;
