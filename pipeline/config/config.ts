import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { compatibilityLevels } from '../registry/compatibility.js';
import { readEnvFile } from './stackEnvFile.js';

/**
 * The one place kes reads its settings. Precedence: explicit overrides (CLI flags) > process environment >
 * `<KES_HOME>/stack.env` (written by `kes stack up`) > defaults that work with the local stack.
 * A bad value fails at load time with the name of the setting.
 */

const port = z.coerce.number().int().min(1).max(65535);
const url = z.string().url();

const schema = z.object({
  /** Where the local stack keeps its data, logs and pid files. @default `.kes` in the working directory */
  KES_HOME: z.string().min(1),
  /** Least severe level the services log (JSON lines on stderr, through pino); `silent` logs nothing. @default info */
  KES_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  /** Downloaded artifacts (Kafka jars, registry archive), shared by every checkout. @default `~/.cache/kes` */
  KES_CACHE_DIR: z.string().min(1),
  /** `auto` uses Docker compose when a Docker engine answers, else local processes. @default auto */
  KES_STACK_MODE: z.enum(['auto', 'local', 'docker']),
  /** Comma-separated host:port list. @default 127.0.0.1:19092 */
  KAFKA_BROKERS: z
    .string()
    .transform((s) => s.split(',').map((b) => b.trim()))
    .pipe(z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port')).min(1)),
  /** Base URL of a Confluent-compatible schema registry API. @default http://127.0.0.1:18081/apis/ccompat/v7 */
  SCHEMA_REGISTRY_URL: url,
  /** @default redis://127.0.0.1:16379 */
  REDIS_URL: url.refine((u) => u.startsWith('redis://') || u.startsWith('rediss://'), 'expected redis:// or rediss://'),
  /**
   * Sentinels (comma-separated host:port) that name the Redis master; when set, every Redis client kes makes
   * connects through them and follows a failover, and REDIS_URL gives only the password and database. Unset: one
   * Redis at REDIS_URL.
   */
  KES_REDIS_SENTINELS: z
    .string()
    .transform((s) => s.split(',').map((b) => b.trim()))
    .pipe(z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port')).min(1))
    .optional(),
  /** The master group name the sentinels monitor. @default kes */
  KES_REDIS_MASTER_NAME: z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, . _ - only'),
  /** Replicas `kes stack up` runs beside the Redis master (each > 0 also runs three sentinels). @default 0 */
  KES_REDIS_REPLICAS: z.coerce.number().int().min(0).max(4),
  /**
   * A ClickHouse cluster name (as in the server's remote_servers): the read models are then created ON CLUSTER as
   * Replicated tables with Distributed tables to serve them. Unset: plain tables on one server.
   */
  KES_CLICKHOUSE_CLUSTER: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'letters, digits and _ only')
    .optional(),
  /** A ClickHouse server (>= 23.8) for read models. When unset, the embedded engine is used. */
  CLICKHOUSE_URL: url.optional(),
  /** A ClickHouse server started by the local stack, whatever its version: the HTTP client path is tested on it. */
  KES_CLICKHOUSE_SERVER_URL: url.optional(),
  /**
   * PostgreSQL of the local stack (database `kes`, trust auth on 127.0.0.1): the lab's message-db-style event store
   * compares kes with it. @default postgres://kes@127.0.0.1:15432/kes
   */
  POSTGRES_URL: url.refine(
    (u) => u.startsWith('postgres://') || u.startsWith('postgresql://'),
    'expected postgres:// or postgresql://',
  ),
  /** Data path of the embedded ClickHouse engine (chdb). @default `<KES_HOME>/chdb` */
  CLICKHOUSE_EMBEDDED_PATH: z.string().min(1),
  /** Redis AOF fsync policy for the local stack. @default everysec */
  KES_REDIS_APPENDFSYNC: z.enum(['always', 'everysec', 'no']),
  /** Global compatibility the stack sets on the registry at start. @default BACKWARD */
  KES_REGISTRY_COMPATIBILITY: z.enum(compatibilityLevels),
  /** Ports of the local stack. An explicitly set port that is taken is an error; a default one moves. */
  KES_KAFKA_PORT: port,
  KES_KAFKA_CONTROLLER_PORT: port,
  KES_REGISTRY_PORT: port,
  /** Quarkus' management interface (health, metrics) of the registry; it cannot be turned off at run time. */
  KES_REGISTRY_MANAGEMENT_PORT: port,
  KES_REDIS_PORT: port,
  KES_CLICKHOUSE_HTTP_PORT: port,
  KES_CLICKHOUSE_TCP_PORT: port,
  KES_POSTGRES_PORT: port,
  /**
   * Port of the HTTP facade (a subset of ClickHouse's HTTP interface) through which the owner of the embedded data
   * path serves it to other processes; 0 picks a free one. The owner writes its url to
   * `<CLICKHOUSE_EMBEDDED_PATH>/owner.json`, where the others find it. @default 18124
   */
  KES_CLICKHOUSE_EMBEDDED_PORT: z.coerce.number().int().min(0).max(65535),
  /** Largest request body (after decompression) the embedded facade takes, e.g. one insert batch. @default 134217728 */
  KES_CLICKHOUSE_EMBEDDED_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(2 ** 31),
  /** Seconds `kes stack up` waits for each service. @default 120 */
  KES_START_TIMEOUT_S: z.coerce.number().positive(),

  // --- Events: topics and schemas ---
  /** Topic of a category is `<prefix><category>`. @default kes.events. */
  KES_TOPIC_PREFIX: z.string().regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, . _ - only'),
  /** Partitions of a category topic when the guard creates it. @default 12 */
  KES_TOPIC_PARTITIONS: z.coerce.number().int().min(1).max(10_000),
  /** Replication factor of a category topic when the guard creates it. @default 1 */
  KES_TOPIC_REPLICATION: z.coerce.number().int().min(1).max(16),
  /** Directory of the Avro event schemas (`*.avsc`, any depth). @default `schemas` in the working directory */
  KES_SCHEMAS_DIR: z.string().min(1),

  // --- The guard ---
  KES_GUARD_HOST: z.string().min(1),
  /** @default 18090 */
  KES_GUARD_PORT: port,
  /** Base URL clients (and `kes check`) use to reach a guard. @default http://127.0.0.1:<KES_GUARD_PORT> */
  KES_GUARD_URL: url.optional(),
  /** Prefix of every Redis key the guard writes; tests use a random one. @default kes: */
  KES_REDIS_PREFIX: z.string().min(1),
  /**
   * Size of the pool of stable transactional ids (`<prefix>guard-<n>`). A guard leases one; recovery fences all of
   * them, so this bounds how many guards can run at once. @default 16
   */
  KES_GUARD_SLOTS: z.coerce.number().int().min(1).max(1024),
  /** Lease on a slot; a guard that cannot renew it in time stops writing. @default 10000 */
  KES_GUARD_LEASE_MS: z.coerce.number().int().min(500),
  /** A reservation older than this may be resolved (fenced and rolled forward or back) by any guard. @default 5000 */
  KES_GUARD_RESERVATION_MS: z.coerce.number().int().min(200),
  /** Group commit: the longest an append waits for others to share its transaction. @default 2 */
  KES_GUARD_LINGER_MS: z.coerce.number().min(0).max(1000),
  /** Group commit: the most events in one transaction. @default 5000 */
  KES_GUARD_MAX_BATCH_EVENTS: z.coerce.number().int().min(1),
  /** Transactions a guard runs at once (each under its own slot). @default 2 */
  KES_GUARD_PIPELINE: z.coerce.number().int().min(1).max(16),
  /** Event ids are remembered this long: a retry within the window is answered from the first write. @default 86400 */
  KES_IDEMPOTENCY_WINDOW_S: z.coerce.number().int().min(1),
  /**
   * Event ids remembered per partition at most (the window's memory bound, about 36 bytes of Redis an event): past
   * it the oldest quarter is forgotten before KES_IDEMPOTENCY_WINDOW_S is up. @default 1000000
   */
  KES_IDEMPOTENCY_WINDOW_EVENTS: z.coerce.number().int().min(4).max(250_000_000),
  /** Largest request body in bytes (413 beyond). @default 1048576 */
  KES_MAX_BODY_BYTES: z.coerce.number().int().min(1024),
  /** Largest single event (its data and metadata as JSON) in bytes (413 beyond). @default 262144 */
  KES_MAX_EVENT_BYTES: z.coerce.number().int().min(64),
  /** Appends in one `POST /appends` at most (400 beyond). @default 1000 */
  KES_MAX_BATCH_APPENDS: z.coerce.number().int().min(1).max(100_000),
  /**
   * API keys: a JSON array `[{"key","service","categories":[...]}]`, inline or `@path/to/file.json`. A category
   * `*` means every category (for local use only). @default one local key `kes-local-dev` for every category
   */
  KES_API_KEYS: z.string().min(1),

  // --- Commands (the decider modules the guard hosts) ---
  /** Attempts per command when another writer wins the compare-and-swap (409 once spent). @default 8 */
  KES_COMMAND_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100),
  /** Backoff between attempts: a random wait up to base x 2^(attempt-1), capped by the max. @default 10 */
  KES_COMMAND_RETRY_BASE_MS: z.coerce.number().int().min(0).max(10_000),
  /** @default 400 */
  KES_COMMAND_RETRY_MAX_MS: z.coerce.number().int().min(0).max(60_000),
  /** Folded states are cached in Redis this long after their last write (0: no cache). @default 86400 */
  KES_COMMAND_STATE_TTL_S: z.coerce.number().int().min(0),

  // --- The example domain's transfers service (`kes transfers`: its process manager) ---
  /** API key the transfers service sends commands with (owns `transfer`, may command `account`). @default kes-local-dev */
  KES_TRANSFERS_API_KEY: z.string().min(8),
  /** Consumer group of the process manager. @default kes.transfers */
  KES_TRANSFERS_GROUP: z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, . _ - only'),
  /** Partitions of the transfer topic worked on at once by one process. @default 12 */
  KES_TRANSFERS_CONCURRENCY: z.coerce.number().int().min(1).max(256),
  /**
   * Consumer-group session of the process manager: how long a crashed process holds its partitions before the
   * group gives them to another (the broker allows 6000 and up by default). @default 10000
   */
  KES_TRANSFERS_SESSION_TIMEOUT_MS: z.coerce.number().int().min(1000).max(300_000),
  KES_TRANSFERS_HOST: z.string().min(1),
  /** HTTP port of the process manager (health, metrics). @default 18092 */
  KES_TRANSFERS_PORT: port,

  // --- Projectors and read models ---
  /** ClickHouse database of the read models; tests use a random one. @default kes */
  KES_CLICKHOUSE_DATABASE: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'letters, digits and _ only'),
  /** Consumer group of version N of a projection is `<prefix><projection>.v<N>-<id>`. @default kes.projector. */
  KES_PROJECTOR_GROUP_PREFIX: z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, . _ - only'),
  /** Dead letters of a projection go to `<prefix><projection>`. @default kes.deadletter. */
  KES_DEADLETTER_PREFIX: z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, . _ - only'),
  /** Most rows in one ClickHouse insert. @default 100000 */
  KES_PROJECTOR_BATCH_ROWS: z.coerce.number().int().min(1).max(1_000_000),
  /** Longest a fetched event waits for its batch to fill before the insert. @default 250 */
  KES_PROJECTOR_BATCH_MS: z.coerce.number().int().min(0).max(60_000),
  /** Bytes one fetch may return (bounds a batch's memory). @default 16777216 */
  KES_PROJECTOR_FETCH_BYTES: z.coerce.number().int().min(65_536),
  /**
   * A projector that stops heartbeating (killed, paused) keeps its partitions this long before the group moves
   * them: the worst pause in freshness after a crash. @default 10000
   */
  KES_PROJECTOR_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).max(300_000),
  KES_PROJECTOR_HOST: z.string().min(1),
  /** HTTP port of a projector (metrics, health, reports, stream reads); 0 picks a free one. @default 18091 */
  KES_PROJECTOR_PORT: z.coerce.number().int().min(0).max(65535),
});

export type KesConfig = Readonly<Omit<z.infer<typeof schema>, 'KES_GUARD_URL'> & { KES_GUARD_URL: string }> & {
  /** Names of the settings that were given explicitly (env, flag or stack.env), not defaulted. */
  readonly explicit: ReadonlySet<string>;
};

/** The API key of the local stack's default config; never configure it in production. */
export const LOCAL_DEV_KEY = 'kes-local-dev';

export const defaultPorts = {
  KES_KAFKA_PORT: 19092,
  KES_KAFKA_CONTROLLER_PORT: 19093,
  KES_REGISTRY_PORT: 18081,
  KES_REGISTRY_MANAGEMENT_PORT: 18082,
  KES_REDIS_PORT: 16379,
  KES_CLICKHOUSE_HTTP_PORT: 18123,
  KES_CLICKHOUSE_TCP_PORT: 19000,
  KES_POSTGRES_PORT: 15432,
} as const;

/** The embedded engine's facade; not in defaultPorts, which lists the ports docker-compose.yml publishes. */
export const defaultEmbeddedPort = 18124;
export const defaultEmbeddedMaxBodyBytes = 128 * 1024 * 1024;

export function defaults(home: string): Record<keyof z.infer<typeof schema>, string | undefined> {
  return {
    KES_HOME: home,
    KES_LOG_LEVEL: 'info',
    KES_CACHE_DIR: join(homedir(), '.cache', 'kes'),
    KES_STACK_MODE: 'auto',
    KAFKA_BROKERS: `127.0.0.1:${defaultPorts.KES_KAFKA_PORT}`,
    SCHEMA_REGISTRY_URL: `http://127.0.0.1:${defaultPorts.KES_REGISTRY_PORT}/apis/ccompat/v7`,
    REDIS_URL: `redis://127.0.0.1:${defaultPorts.KES_REDIS_PORT}`,
    CLICKHOUSE_URL: undefined,
    KES_CLICKHOUSE_SERVER_URL: undefined,
    POSTGRES_URL: `postgres://kes@127.0.0.1:${defaultPorts.KES_POSTGRES_PORT}/kes`,
    KES_REDIS_SENTINELS: undefined,
    KES_REDIS_MASTER_NAME: 'kes',
    KES_REDIS_REPLICAS: '0',
    KES_CLICKHOUSE_CLUSTER: undefined,
    CLICKHOUSE_EMBEDDED_PATH: join(home, 'chdb'),
    KES_REDIS_APPENDFSYNC: 'everysec',
    KES_REGISTRY_COMPATIBILITY: 'BACKWARD',
    ...Object.fromEntries(Object.entries(defaultPorts).map(([k, v]) => [k, String(v)])),
    KES_CLICKHOUSE_EMBEDDED_PORT: String(defaultEmbeddedPort),
    KES_CLICKHOUSE_EMBEDDED_MAX_BODY_BYTES: String(defaultEmbeddedMaxBodyBytes),
    KES_START_TIMEOUT_S: '120',
    KES_TOPIC_PREFIX: 'kes.events.',
    KES_TOPIC_PARTITIONS: '12',
    KES_TOPIC_REPLICATION: '1',
    KES_SCHEMAS_DIR: 'schemas',
    KES_GUARD_HOST: '127.0.0.1',
    KES_GUARD_PORT: '18090',
    KES_GUARD_URL: undefined,
    KES_REDIS_PREFIX: 'kes:',
    KES_GUARD_SLOTS: '16',
    KES_GUARD_LEASE_MS: '10000',
    KES_GUARD_RESERVATION_MS: '1000',
    KES_GUARD_LINGER_MS: '2',
    KES_GUARD_MAX_BATCH_EVENTS: '5000',
    KES_GUARD_PIPELINE: '2',
    KES_IDEMPOTENCY_WINDOW_S: '86400',
    KES_IDEMPOTENCY_WINDOW_EVENTS: '1000000',
    KES_MAX_BODY_BYTES: '1048576',
    KES_MAX_EVENT_BYTES: '262144',
    KES_MAX_BATCH_APPENDS: '1000',
    KES_API_KEYS: JSON.stringify([{ key: LOCAL_DEV_KEY, service: 'local-dev', categories: ['*'] }]),
    KES_COMMAND_MAX_ATTEMPTS: '8',
    KES_COMMAND_RETRY_BASE_MS: '10',
    KES_COMMAND_RETRY_MAX_MS: '400',
    KES_COMMAND_STATE_TTL_S: '86400',
    KES_TRANSFERS_API_KEY: LOCAL_DEV_KEY,
    KES_TRANSFERS_GROUP: 'kes.transfers',
    KES_TRANSFERS_CONCURRENCY: '12',
    KES_TRANSFERS_SESSION_TIMEOUT_MS: '10000',
    KES_TRANSFERS_HOST: '127.0.0.1',
    KES_TRANSFERS_PORT: '18092',
    KES_CLICKHOUSE_DATABASE: 'kes',
    KES_PROJECTOR_GROUP_PREFIX: 'kes.projector.',
    KES_DEADLETTER_PREFIX: 'kes.deadletter.',
    KES_PROJECTOR_BATCH_ROWS: '100000',
    KES_PROJECTOR_BATCH_MS: '250',
    KES_PROJECTOR_FETCH_BYTES: '16777216',
    KES_PROJECTOR_SESSION_TIMEOUT_MS: '10000',
    KES_PROJECTOR_HOST: '127.0.0.1',
    KES_PROJECTOR_PORT: '18091',
  } as Record<keyof z.infer<typeof schema>, string | undefined>;
}

export const settingNames = Object.keys(schema.shape) as (keyof z.infer<typeof schema>)[];

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Values from CLI flags, by setting name; they win over everything else. */
  overrides?: Record<string, string | undefined>;
  cwd?: string;
  /** Skip `<home>/stack.env` (used by `kes stack up`, which is about to rewrite it). */
  ignoreStackEnv?: boolean;
}

export function stackEnvPath(home: string): string {
  return join(home, 'stack.env');
}

export function loadConfig(options: LoadOptions = {}): KesConfig {
  const env = options.env ?? process.env;
  const overrides = options.overrides ?? {};
  const cwd = options.cwd ?? process.cwd();
  const home = resolve(cwd, overrides.KES_HOME ?? env.KES_HOME ?? '.kes');
  const fromFile = options.ignoreStackEnv ? {} : readEnvFile(stackEnvPath(home));
  const base = defaults(home);
  const raw: Record<string, string | undefined> = {};
  const explicit = new Set<string>();
  for (const name of settingNames) {
    const given = overrides[name] ?? env[name] ?? fromFile[name];
    if (given !== undefined && given !== '') explicit.add(name);
    raw[name] = given !== undefined && given !== '' ? given : base[name];
  }
  raw.KES_HOME = home;
  raw.KES_SCHEMAS_DIR = resolve(cwd, raw.KES_SCHEMAS_DIR ?? 'schemas');
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.map(String).join('.') || 'config';
    throw new ConfigError(path, `${issue?.message ?? 'invalid'} (got ${JSON.stringify(raw[path] ?? null)})`);
  }
  const guardUrl = parsed.data.KES_GUARD_URL ?? `http://${parsed.data.KES_GUARD_HOST}:${parsed.data.KES_GUARD_PORT}`;
  return Object.freeze({ ...parsed.data, KES_GUARD_URL: guardUrl, explicit });
}
