import { mkdirSync } from 'node:fs';
import type { Session } from 'chdb';
import { type ClickHouseEngine, ClickHouseQueryError } from './engine.js';

/**
 * ClickHouse embedded in this process (npm chdb). Only the async calls are used: the sync ones block the event
 * loop for the whole query, which would stall Kafka heartbeats and HTTP. One process holds a data path at a
 * time: other processes must reach the data through the owner's API, never by opening the same path.
 */
export class EmbeddedEngine implements ClickHouseEngine {
  readonly kind = 'embedded' as const;

  private constructor(private readonly session: Session) {}

  static async open(path: string): Promise<EmbeddedEngine> {
    mkdirSync(path, { recursive: true });
    const { Session: SessionClass } = await import('chdb');
    return new EmbeddedEngine(new SessionClass(path));
  }

  async command(sql: string): Promise<void> {
    try {
      await this.session.queryAsync(sql);
    } catch (error) {
      throw new ClickHouseQueryError(this.kind, sql, error);
    }
  }

  async insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
    if (rows.length === 0) return;
    const body = rows.map((row) => JSON.stringify(row)).join('\n');
    try {
      await this.session.insert({ table, values: body, format: 'JSONEachRow' });
    } catch (error) {
      throw new ClickHouseQueryError(this.kind, `INSERT INTO ${table}`, error);
    }
  }

  async query<Row>(sql: string): Promise<Row[]> {
    let text: string;
    try {
      text = (await this.session.queryAsync(sql, { format: 'JSONEachRow' })).text();
    } catch (error) {
      throw new ClickHouseQueryError(this.kind, sql, error);
    }
    return text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Row);
  }

  async version(): Promise<string> {
    const [row] = await this.query<{ v: string }>('SELECT version() AS v');
    return row?.v ?? 'unknown';
  }

  async close(): Promise<void> {
    this.session.close();
  }
}
