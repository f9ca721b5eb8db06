import { Agent, request } from 'node:http';
import { ATTEMPT_DEADLINE_HEADER } from '../../guard/append/attemptDeadline.js';
import type { Expected } from '../../guard/append/expectedVersion.js';
import type { AttemptReport } from '../../guard/client/guardClient.js';

/**
 * A lean HTTP client for load against a guard: node:http with one keep-alive agent (no fetch, no retries, no
 * per-request URL parsing), JSON bodies. One attempt per call, answered as the history log records attempts
 * (`AttemptReport['outcome']`), so `toHistory` of workload.ts turns it into a history line for `kes check`.
 * Used by `npm run bench:guard`, where the client shares two cores with the guard, Kafka and Redis and every
 * microsecond it spends is taken from them.
 */
export interface HttpLoadOptions {
  /** Base URL of one guard, e.g. http://127.0.0.1:18090 */
  url: string;
  apiKey: string;
  /** Open connections at most (keep-alive); give at least the number of concurrent requests. */
  maxSockets: number;
  /** @default 10000 */
  timeoutMs?: number;
}

export interface LoadEvent {
  id: string;
  type: string;
  data: unknown;
  metadata?: Record<string, unknown>;
}

export interface LoadAttempt {
  stream: string;
  expectedVersion: Expected;
  eventIds: string[];
  startMs: number;
  endMs: number;
  outcome: AttemptReport['outcome'];
}

export class HttpLoadClient {
  private readonly agent: Agent;
  private readonly host: string;
  private readonly port: number;
  private readonly basePath: string;
  private readonly authorization: string;
  private readonly timeoutMs: number;

  constructor(options: HttpLoadOptions) {
    const url = new URL(options.url);
    if (url.protocol !== 'http:') throw new Error(`HttpLoadClient speaks http only, got ${options.url}`);
    this.host = url.hostname;
    this.port = Number(url.port || 80);
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.authorization = `Bearer ${options.apiKey}`;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets, maxFreeSockets: options.maxSockets });
  }

  /** One attempt of an append; never throws (network failures and timeouts are 'indeterminate'). */
  async append(stream: string, expectedVersion: Expected, events: readonly LoadEvent[]): Promise<LoadAttempt> {
    const body = JSON.stringify({ expectedVersion, events });
    const startMs = Date.now();
    const eventIds = events.map((e) => e.id);
    const done = (outcome: LoadAttempt['outcome']): LoadAttempt => ({
      stream,
      expectedVersion,
      eventIds,
      startMs,
      endMs: Date.now(),
      outcome,
    });
    let answer: { status: number; body: string };
    try {
      answer = await this.send('POST', `/streams/${encodeURIComponent(stream)}/events`, body);
    } catch (error) {
      return done({ status: 'indeterminate', reason: error instanceof Error ? error.message : 'network' });
    }
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(answer.body) as Record<string, unknown>;
    } catch {
      return done({ status: 'indeterminate', reason: `unparseable answer (HTTP ${answer.status})` });
    }
    if (answer.status === 200) {
      return done({
        status: 'ok',
        result: {
          stream: String(json.stream),
          firstVersion: Number(json.firstVersion),
          lastVersion: Number(json.lastVersion),
          topic: String(json.topic),
          partition: Number(json.partition),
          offset: Number(json.offset),
          ...(json.duplicate === true ? { duplicate: true } : {}),
        },
      });
    }
    const code = String(json.error ?? 'unknown');
    if (answer.status === 409 && code === 'wrong_expected_version') {
      return done({ status: 'conflict', actual: Number(json.actual) });
    }
    if (answer.status === 500 && code === 'outcome_unknown') return done({ status: 'indeterminate', reason: code });
    return done({ status: 'rejected', httpStatus: answer.status, code });
  }

  /** A plain GET (health, metrics); resolves with the status and the body as text. */
  get(path: string): Promise<{ status: number; body: string }> {
    return this.send('GET', path, undefined);
  }

  close(): void {
    this.agent.destroy();
  }

  private send(method: string, path: string, body: string | undefined): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { authorization: this.authorization };
      if (body !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(body);
        // This attempt is given up after timeoutMs: the guard must not reserve it later than that (its retry could
        // already have been answered).
        headers[ATTEMPT_DEADLINE_HEADER] = Date.now() + this.timeoutMs;
      }
      const req = request(
        { agent: this.agent, host: this.host, port: this.port, method, path: this.basePath + path, headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body:
                chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8'),
            }),
          );
          res.on('error', reject);
        },
      );
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}
