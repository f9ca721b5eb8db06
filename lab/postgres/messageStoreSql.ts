import { UsageError } from '../../pipeline/errors.js';

/**
 * The SQL of a message-db-style store (github.com/message-db/message-db: `messages`, `write_message`,
 * `get_stream_messages`), created in a schema of its own so that each run is isolated and dropped whole.
 * The schema name is written into the function bodies rather than left to search_path: plpgsql resolves table
 * names at call time, and a pooled connection's search_path is not ours to rely on.
 */

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** The schema name, checked: it is spliced into SQL, so only lower-case letters, digits and _ are accepted. */
export function checkSchemaName(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new UsageError(`message store schema '${schema}': expected lower-case letters, digits and _ (at most 63)`, {
      schema,
    });
  }
  return schema;
}

/** Statements that create the store in `schema`; each may run again on an existing store. */
export function messageStoreDdl(schema: string): string[] {
  const s = checkSchemaName(schema);
  return [
    `CREATE SCHEMA IF NOT EXISTS ${s}`,
    `CREATE TABLE IF NOT EXISTS ${s}.messages (
      global_position bigserial NOT NULL PRIMARY KEY,
      position bigint NOT NULL,
      time timestamptz NOT NULL DEFAULT now(),
      stream_name text NOT NULL,
      type text NOT NULL,
      data jsonb,
      metadata jsonb,
      id uuid NOT NULL
    )`,
    `CREATE UNIQUE INDEX IF NOT EXISTS messages_stream ON ${s}.messages (stream_name, position)`,
    `CREATE UNIQUE INDEX IF NOT EXISTS messages_id ON ${s}.messages (id)`,
    `CREATE OR REPLACE FUNCTION ${s}.stream_version(_stream_name text) RETURNS bigint
      LANGUAGE sql STABLE AS $$
        SELECT max(position) FROM ${s}.messages WHERE stream_name = _stream_name
      $$`,
    // As message-db's write_message: the stream is locked for the transaction, its version read under the lock,
    // compared with the expectation (NULL: any) and the message written at version + 1 (the first at 0).
    `CREATE OR REPLACE FUNCTION ${s}.write_message(
        _id uuid, _stream_name text, _type text, _data jsonb, _metadata jsonb DEFAULT NULL,
        _expected_version bigint DEFAULT NULL
      ) RETURNS bigint LANGUAGE plpgsql AS $$
      DECLARE
        _stream_version bigint;
        _next_position bigint;
      BEGIN
        PERFORM pg_advisory_xact_lock(hashtext(_stream_name));
        _stream_version := coalesce(${s}.stream_version(_stream_name), -1);
        IF _expected_version IS NOT NULL AND _expected_version <> _stream_version THEN
          RAISE EXCEPTION 'Wrong expected version: % (Stream: %, Stream Version: %)',
            _expected_version, _stream_name, _stream_version;
        END IF;
        _next_position := _stream_version + 1;
        INSERT INTO ${s}.messages (id, stream_name, position, type, data, metadata)
          VALUES (_id, _stream_name, _next_position, _type, _data, _metadata);
        RETURN _next_position;
      END;
      $$`,
    `CREATE OR REPLACE FUNCTION ${s}.get_stream_messages(_stream_name text, _position bigint DEFAULT 0,
        _batch_size bigint DEFAULT 1000)
      RETURNS SETOF ${s}.messages LANGUAGE sql STABLE AS $$
        SELECT * FROM ${s}.messages
        WHERE stream_name = _stream_name AND position >= _position
        ORDER BY position
        LIMIT _batch_size
      $$`,
  ];
}

export function dropSchemaSql(schema: string): string {
  return `DROP SCHEMA IF EXISTS ${checkSchemaName(schema)} CASCADE`;
}
