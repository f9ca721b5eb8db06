import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import type { HealthAnswer } from '../pipeline/http/health.js';
import { type Frame, frameBetween, RollingWindow, type Scrape, type Totals, totalsOf } from './pipelineFrame.js';
import { type PipelineHealth, pipelineHealth, type ServiceProbe } from './pipelineHealth.js';
import { parsePrometheusText, type Sample } from './prometheusText.js';

export interface PollerOptions {
  guards: readonly string[];
  projectors: readonly string[];
  /** @default 1000 */
  intervalMs?: number;
  /** How much history /api/series keeps. @default 300000 (5 minutes) */
  windowMs?: number;
  /** Reports run queries on ClickHouse: read less often than the metrics. @default 5000 */
  reportsEveryMs?: number;
  /** Rows of a report kept for its chart. @default 200 */
  reportRows?: number;
}

export interface SourceState {
  role: 'guard' | 'projector';
  url: string;
  up: boolean;
  error: string | undefined;
  lastOkAt: number | undefined;
}

export interface ReportColumnInfo {
  name: string;
  kind: string;
}

export interface ReportState {
  name: string;
  description: string;
  columns: ReportColumnInfo[];
  rows: Record<string, unknown>[];
  error: string | undefined;
  at: number;
}

export interface Snapshot {
  t: number;
  /** Polls done since start: moves every interval. */
  updates: number;
  intervalMs: number;
  windowMs: number;
  sources: SourceState[];
  health: PipelineHealth;
  totals: Totals | undefined;
  latest: Frame | undefined;
}

interface Source extends SourceState {
  samples: readonly Sample[];
  probe: ServiceProbe;
}

/**
 * Polls every guard's and projector's /metrics and /health/ready each interval (server-side: the page never talks
 * to the services, so no CORS and one place that knows their addresses), turns consecutive scrapes into frames
 * kept for a rolling window, and reads the projector's reports now and then.
 */
export class PipelinePoller {
  readonly intervalMs: number;
  readonly window: RollingWindow;
  private readonly sources: Source[];
  private readonly reportsEveryMs: number;
  private readonly reportRows: number;
  private previous: Scrape | undefined;
  private current: Scrape | undefined;
  private updates = 0;
  private reports: ReportState[] = [];
  private reportsAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private inFlight: Promise<void> | undefined;
  private reading: Promise<void> | undefined;
  private readonly stopping = new AbortController();

  constructor(options: PollerOptions) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.window = new RollingWindow(options.windowMs ?? 300_000);
    this.reportsEveryMs = options.reportsEveryMs ?? 5000;
    this.reportRows = options.reportRows ?? 200;
    const source = (role: Source['role'], url: string): Source => ({
      role,
      url: url.replace(/\/+$/, ''),
      up: false,
      error: 'not polled yet',
      lastOkAt: undefined,
      samples: [],
      probe: { url, answer: undefined, error: 'not polled yet' },
    });
    this.sources = [
      ...options.guards.map((u) => source('guard', u)),
      ...options.projectors.map((u) => source('projector', u)),
    ];
  }

  /** Polls at once, then every interval (never two polls at a time: a slow service delays the next one). */
  start(): void {
    const tick = () => {
      if (this.stopped) return;
      const began = Date.now();
      // The next poll is due one interval after this one began (at once if this one took longer).
      this.inFlight = this.poll().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, Math.max(0, began + this.intervalMs - Date.now()));
      });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.stopping.abort();
    await this.inFlight?.catch(() => undefined);
    await this.reading?.catch(() => undefined);
  }

  async poll(): Promise<void> {
    const timeoutMs = Math.max(500, this.intervalMs * 2);
    await Promise.all(this.sources.map((s) => this.pollSource(s, timeoutMs)));
    // A source that failed keeps its last samples: dropping them would read as a counter reset, then a spike.
    const scrape: Scrape = {
      t: Date.now(),
      guard: this.sources.filter((s) => s.role === 'guard').flatMap((s) => s.samples),
      projector: this.sources.filter((s) => s.role === 'projector').flatMap((s) => s.samples),
    };
    this.previous = this.current;
    this.current = scrape;
    if (this.previous) this.window.add(frameBetween(this.previous, scrape));
    this.updates++;
    if (scrape.t - this.reportsAt >= this.reportsEveryMs && !this.reading) {
      this.reportsAt = scrape.t;
      // In the background: a slow report query must not hold the metrics back.
      this.reading = this.readReports()
        .catch(() => undefined)
        .finally(() => {
          this.reading = undefined;
        });
    }
  }

  private async pollSource(source: Source, timeoutMs: number): Promise<void> {
    const [metrics, ready] = await Promise.allSettled([
      getText(`${source.url}/metrics`, timeoutMs, this.stopping.signal),
      getText(`${source.url}/health/ready`, timeoutMs, this.stopping.signal),
    ]);
    if (metrics.status === 'fulfilled') {
      try {
        source.samples = parsePrometheusText(metrics.value.body);
        source.up = true;
        source.error = undefined;
        source.lastOkAt = Date.now();
      } catch (error) {
        source.up = false;
        source.error = String((error as Error).message);
      }
    } else {
      source.up = false;
      source.error = reason(metrics.reason);
    }
    source.probe =
      ready.status === 'fulfilled'
        ? { url: source.url, answer: asHealth(ready.value.body), error: undefined }
        : { url: source.url, answer: undefined, error: reason(ready.reason) };
  }

  private async readReports(): Promise<void> {
    const projector = this.sources.find((s) => s.role === 'projector' && s.up);
    if (!projector) return;
    const list = JSON.parse((await getText(`${projector.url}/reports`, 10_000, this.stopping.signal)).body) as {
      reports?: { name: string; description: string; columns: ReportColumnInfo[] }[];
    };
    const out: ReportState[] = [];
    for (const report of list.reports ?? []) {
      const state: ReportState = { ...report, rows: [], error: undefined, at: Date.now() };
      try {
        if (this.stopped) return;
        const answer = await getText(
          `${projector.url}/reports/${encodeURIComponent(report.name)}`,
          10_000,
          this.stopping.signal,
        );
        const body = JSON.parse(answer.body) as { rows?: Record<string, unknown>[]; message?: string };
        if (answer.status !== 200) state.error = body.message ?? `HTTP ${answer.status}`;
        state.rows = (body.rows ?? []).slice(0, this.reportRows);
      } catch (error) {
        state.error = reason(error);
      }
      out.push(state);
    }
    this.reports = out;
  }

  snapshot(): Snapshot {
    const guards = this.sources.filter((s) => s.role === 'guard').map((s) => s.probe);
    const projectors = this.sources.filter((s) => s.role === 'projector').map((s) => s.probe);
    const latest = this.window.latest();
    return {
      t: Date.now(),
      updates: this.updates,
      intervalMs: this.intervalMs,
      windowMs: this.window.windowMs,
      sources: this.sources.map(({ role, url, up, error, lastOkAt }) => ({ role, url, up, error, lastOkAt })),
      health: pipelineHealth(guards, projectors, latest),
      totals: this.current ? totalsOf(this.current) : undefined,
      latest,
    };
  }

  series(): { windowMs: number; frames: readonly Frame[] } {
    return { windowMs: this.window.windowMs, frames: this.window.all() };
  }

  reportStates(): readonly ReportState[] {
    return this.reports;
  }
}

/**
 * One GET on a connection of its own, closed after the answer. Keep-alive connections from a poller that never
 * pauses would hold up the services' own shutdown: a server closing waits for its open connections (Fastify's
 * keep-alive lasts 72 s).
 */
function getText(url: string, timeoutMs: number, signal?: AbortSignal): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const get = url.startsWith('https:') ? httpsGet : httpGet;
    const request = get(
      url,
      { agent: false, headers: { connection: 'close' }, timeout: timeoutMs, signal },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(Object.assign(new Error('timed out'), { name: 'TimeoutError' })));
    request.on('error', reject);
  });
}

/** A readiness body (200 or 503 alike carry one); anything else is not an answer. */
function asHealth(body: string): HealthAnswer | undefined {
  try {
    const parsed = JSON.parse(body) as Partial<HealthAnswer>;
    return typeof parsed.status === 'string' && typeof parsed.checks === 'object'
      ? (parsed as HealthAnswer)
      : undefined;
  } catch {
    return undefined;
  }
}

function reason(error: unknown): string {
  const e = error as { cause?: { code?: string; message?: string }; message?: string; name?: string };
  if (e?.name === 'TimeoutError') return 'timed out';
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(error);
}
