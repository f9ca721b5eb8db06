import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { wrongVersionOf } from './messageStoreErrors.js';
import { dropSchemaSql, messageStoreDdl } from './messageStoreSql.js';

export { PostgresUnavailableError, PostgresWrongExpectedVersionError } from './messageStoreErrors.js';

export interface StoredMessage {
  position: number;
  type: string;
  data: unknown;
  globalPosition: number;
}

interface MessageRow {
  position: string;
  type: string;
  data: unknown;
  global_position: string;
}

/**
 * A message-db-style event store on Postgres, the lab's reference point for kes: every write is one transaction
 * through `write_message` (stream lock, version check, insert), committed with fsync (the stack runs Postgres with
 * fsync and synchronous_commit on). It lives in a schema of its own, created by `open` and removed by `drop`.
 */
export class PostgresMessageStore {
  private constructor(
    private readonly pool: pg.Pool,
    readonly schema: string,
  ) {}

  static async open(url: string, options: { schema: string; poolSize: number }): Promise<PostgresMessageStore> {
    const ddl = messageStoreDdl(options.schema);
    const pool = new pg.Pool({ connectionString: url, max: options.poolSize });
    // An idle client's error (the server restarted) must not crash the process; the next query reports it.
    pool.on('error', () => undefined);
    try {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        // Two opens of one schema at once would race on the catalog ("tuple concurrently updated").
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`kes-message-store:${options.schema}`]);
        for (const statement of ddl) await client.query(statement);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
    return new PostgresMessageStore(pool, options.schema);
  }

  /** expectedVersion: -1 = the stream must not exist, null = any. Resolves to the position written. */
  async writeMessage(stream: string, type: string, data: unknown, expectedVersion: number | null): Promise<number> {
    try {
      const result = await this.pool.query<{ position: string }>(
        `SELECT ${this.schema}.write_message($1, $2, $3, $4::jsonb, NULL, $5) AS position`,
        [randomUUID(), stream, type, JSON.stringify(data), expectedVersion],
      );
      return Number(result.rows[0]?.position);
    } catch (error) {
      throw wrongVersionOf(error) ?? error;
    }
  }

  /** Several messages in one transaction, first with expectedVersion, the rest following it. */
  async writeMessages(
    stream: string,
    messages: { type: string; data: unknown }[],
    expectedVersion: number | null,
  ): Promise<number> {
    if (messages.length === 0) throw new Error(`writeMessages(${stream}): no messages`);
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      let expected = expectedVersion;
      let position = -1;
      for (const message of messages) {
        const result = await client.query<{ position: string }>(
          `SELECT ${this.schema}.write_message($1, $2, $3, $4::jsonb, NULL, $5) AS position`,
          [randomUUID(), stream, message.type, JSON.stringify(message.data), expected],
        );
        position = Number(result.rows[0]?.position);
        // The stream stays locked for the transaction, so each next message is checked against the one before.
        expected = position;
      }
      await client.query('COMMIT');
      return position;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw wrongVersionOf(error) ?? error;
    } finally {
      client.release();
    }
  }

  async readStream(stream: string, fromPosition = 0, batchSize = 1000): Promise<StoredMessage[]> {
    const result = await this.pool.query<MessageRow>(
      `SELECT position, type, data, global_position FROM ${this.schema}.get_stream_messages($1, $2, $3)`,
      [stream, fromPosition, batchSize],
    );
    return result.rows.map((row) => ({
      position: Number(row.position),
      type: row.type,
      data: row.data,
      globalPosition: Number(row.global_position),
    }));
  }

  /** The stream's last position, or null when it has no messages. */
  async streamVersion(stream: string): Promise<number | null> {
    const result = await this.pool.query<{ version: string | null }>(
      `SELECT ${this.schema}.stream_version($1) AS version`,
      [stream],
    );
    const version = result.rows[0]?.version ?? null;
    return version === null ? null : Number(version);
  }

  /** Runs one statement on the store's pool: for bulk loading and measurements the API above does not cover. */
  async query<R extends pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    return this.pool.query<R>(sql, values);
  }

  async drop(): Promise<void> {
    await this.pool.query(dropSchemaSql(this.schema));
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
