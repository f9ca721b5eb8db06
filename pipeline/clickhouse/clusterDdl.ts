import { ConfigError } from '../errors.js';

/**
 * The read models' DDL for a ClickHouse cluster (KES_CLICKHOUSE_CLUSTER): every statement kes runs on one server,
 * rewritten into the statements that do the same on every node of the cluster. Pure text in, text out, so it is
 * unit-tested here and parsed by the embedded engine in clusterDdl.int.test.ts; no server with replication can run
 * on the machines kes is tested on (docs/scaling.md, ClickHouse, says what was and was not run).
 *
 * - `CREATE TABLE … ENGINE = XMergeTree(args)` becomes `CREATE TABLE … ON CLUSTER c … ENGINE =
 *   ReplicatedXMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}', args)`: each replica holds every row,
 *   and Keeper orders the parts. `{uuid}` keeps the Keeper path right through renames (Atomic databases hand the
 *   same UUID to every replica of an ON CLUSTER create). Followed by a Distributed table `<name>_dist` over it, which
 *   serves reads from one healthy replica per shard (and spreads them over shards, if the cluster has several).
 * - `CREATE VIEW` (the serving views) gains ON CLUSTER and reads the `_dist` tables instead of the local ones, so a
 *   query on any node sees the whole cluster; FINAL and argMax are applied per shard, which is exact because one
 *   stream's rows never span shards (kes inserts on one shard; see docs/scaling.md for more shards).
 * - `CREATE MATERIALIZED VIEW` gains ON CLUSTER and keeps reading the local table: a materialized view fires on the
 *   inserts of its own node, and its target is itself Replicated, so its rows reach the other replicas as parts.
 * - `ALTER TABLE` and `DROP TABLE` apply to the table and its `_dist`; DROP waits (SYNC) so that a rebuild can
 *   create the same name again; `DROP VIEW`, `EXCHANGE TABLES` and `CREATE DATABASE` gain ON CLUSTER.
 * Anything else (SELECT, INSERT, SYSTEM, OPTIMIZE) is returned unchanged.
 */

/** The Keeper path and replica name of every replicated table kes creates (macros from each server's config). */
export const REPLICA_PATH = "'/clickhouse/tables/{uuid}/{shard}'";
export const REPLICA_NAME = "'{replica}'";

/** The Distributed table that serves `table` (`db`.`name` -> `db`.`name_dist`). */
export function distributedName(table: string): string {
  const { database, name } = splitName(table);
  return joinName(database, `${unquote(name)}_dist`);
}

const IDENT = '(?:`[^`]+`|[A-Za-z_][A-Za-z0-9_]*)';
const NAME = `${IDENT}(?:\\.${IDENT})?`;
const MERGE_TREE =
  /ENGINE\s*=\s*(Replacing|Aggregating|Summing|Collapsing|VersionedCollapsing|Graphite)?MergeTree\b(\s*\(([^()]*)\))?/i;

export function clusterStatements(sql: string, cluster: string): string[] {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(cluster)) {
    throw new ConfigError('KES_CLICKHOUSE_CLUSTER', `not a cluster name: ${JSON.stringify(cluster)}`);
  }
  const text = sql.trim();
  if (/\bON\s+CLUSTER\b/i.test(text)) return [text];
  const on = `ON CLUSTER ${cluster}`;

  let m = new RegExp(`^CREATE\\s+DATABASE\\s+(IF\\s+NOT\\s+EXISTS\\s+)?(${NAME})`, 'i').exec(text);
  if (m) return [insertAfter(text, m[0], ` ${on}`)];

  m = new RegExp(`^CREATE\\s+MATERIALIZED\\s+VIEW\\s+(IF\\s+NOT\\s+EXISTS\\s+)?(${NAME})`, 'i').exec(text);
  if (m) return [insertAfter(text, m[0], ` ${on}`)];

  m = new RegExp(`^CREATE\\s+(OR\\s+REPLACE\\s+)?VIEW\\s+(IF\\s+NOT\\s+EXISTS\\s+)?(${NAME})`, 'i').exec(text);
  if (m) {
    const head = m[0];
    return [`${head} ${on}${readDistributed(text.slice(head.length))}`];
  }

  m = new RegExp(`^CREATE\\s+TABLE\\s+(IF\\s+NOT\\s+EXISTS\\s+)?(${NAME})`, 'i').exec(text);
  if (m) {
    const table = m[2] ?? '';
    const engine = MERGE_TREE.exec(text);
    if (!engine) return [insertAfter(text, m[0], ` ${on}`)];
    const [whole, family = '', , args = ''] = engine;
    const replicatedArgs = [REPLICA_PATH, REPLICA_NAME, ...(args.trim() ? [args.trim()] : [])].join(', ');
    const local = insertAfter(text, m[0], ` ${on}`).replace(
      whole,
      `ENGINE = Replicated${family}MergeTree(${replicatedArgs})`,
    );
    const { database, name } = splitName(table);
    const distributed =
      `CREATE TABLE IF NOT EXISTS ${distributedName(table)} ${on} AS ${table} ` +
      `ENGINE = Distributed(${cluster}, ${unquote(database ?? 'currentDatabase()')}, ${unquote(name)})`;
    return [local, distributed];
  }

  m = new RegExp(`^ALTER\\s+TABLE\\s+(${NAME})`, 'i').exec(text);
  if (m) {
    const table = m[1] ?? '';
    const rest = text.slice(m[0].length);
    return [`ALTER TABLE ${table} ${on}${rest}`, `ALTER TABLE ${distributedName(table)} ${on}${rest}`];
  }

  m = new RegExp(`^DROP\\s+(TABLE|VIEW|DATABASE)\\s+(IF\\s+EXISTS\\s+)?(${NAME})\\s*(SYNC)?$`, 'i').exec(text);
  if (m) {
    const [, kind = '', ifExists = '', name = ''] = m;
    const drop = (target: string) => `DROP ${kind.toUpperCase()} ${ifExists}${target} ${on} SYNC`;
    // The Distributed table goes first: it must never outlive (and point at) a dropped local table.
    return kind.toUpperCase() === 'TABLE' ? [drop(distributedName(name)), drop(name)] : [drop(name)];
  }

  m = new RegExp(
    `^(EXCHANGE\\s+TABLES\\s+${NAME}\\s+AND\\s+${NAME}|RENAME\\s+TABLE\\s+${NAME}\\s+TO\\s+${NAME})`,
    'i',
  ).exec(text);
  if (m) return [insertAfter(text, m[0], ` ${on}`)];

  if (/^(CREATE|ALTER|DROP|EXCHANGE|RENAME|TRUNCATE)\b/i.test(text)) {
    throw new ConfigError('KES_CLICKHOUSE_CLUSTER', `no cluster form for this statement: ${text.slice(0, 120)}`);
  }
  return [text];
}

/** Table references `db`.`name_vN` in a serving view's SELECT become their Distributed tables. */
function readDistributed(body: string): string {
  return body.replace(new RegExp(`(${IDENT}\\.)(\`[^\`]+_v\\d+\`)`, 'g'), (_all, db: string, name: string) => {
    return `${db}\`${name.slice(1, -1)}_dist\``;
  });
}

function insertAfter(text: string, head: string, addition: string): string {
  return `${head}${addition}${text.slice(head.length)}`;
}

function splitName(table: string): { database: string | undefined; name: string } {
  const parts = table.match(new RegExp(IDENT, 'g')) ?? [];
  return parts.length === 2
    ? { database: parts[0], name: parts[1] ?? '' }
    : { database: undefined, name: parts[0] ?? '' };
}

function joinName(database: string | undefined, name: string): string {
  return `${database ? `${database}.` : ''}\`${unquote(name)}\``;
}

function unquote(identifier: string): string {
  return identifier.startsWith('`') ? identifier.slice(1, -1) : identifier;
}
