import { randomUUID } from 'node:crypto';
import type { Expected } from '../../guard/append/expectedVersion.js';
import type { HttpLoadClient, LoadAttempt } from '../../verify/load/httpLoad.js';
import { accountEvent, type StreamState } from './accountEvents.js';

/** What the freshness load knows of its streams: the version each last saw, so appends carry the right expectedVersion. */
export class LoadStreams {
  private readonly known = new Map<string, number>();
  ok = 0;

  constructor(
    private readonly category: string,
    private readonly count: number,
  ) {}

  pick(): { stream: string; expected: Expected; type: string; data: Record<string, unknown> } {
    const i = Math.floor(Math.random() * this.count);
    const stream = `${this.category}-${i}`;
    const v = this.known.get(stream);
    const s: StreamState = { name: stream, id: String(i), partition: 0, next: 0, currency: 'EUR' };
    const { type, data } = accountEvent(s, v === undefined ? 0 : v + 1);
    return { stream, expected: v === undefined ? 'no_stream' : v, type, data };
  }

  async append(client: HttpLoadClient): Promise<LoadAttempt> {
    const { stream, expected, type, data } = this.pick();
    const a = await client.append(stream, expected, [{ id: randomUUID(), type, data }]);
    const o = a.outcome;
    if (o.status === 'ok') {
      this.ok += 1;
      if ((this.known.get(stream) ?? -1) < o.result.lastVersion) this.known.set(stream, o.result.lastVersion);
    } else if (o.status === 'conflict' && Number.isFinite(o.actual)) {
      this.known.set(stream, o.actual);
    }
    return a;
  }
}
