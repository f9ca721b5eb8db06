import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
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
  /** A ClickHouse server (>= 23.8) for read models. When unset, the embedded engine is used. */
  CLICKHOUSE_URL: url.optional(),
  /** A ClickHouse server started by the local stack, whatever its version: the HTTP client path is tested on it. */
  KES_CLICKHOUSE_SERVER_URL: url.optional(),
  /** Data path of the embedded ClickHouse engine (chdb). @default `<KES_HOME>/chdb` */
  CLICKHOUSE_EMBEDDED_PATH: z.string().min(1),
  /** Redis AOF fsync policy for the local stack. @default everysec */
  KES_REDIS_APPENDFSYNC: z.enum(['always', 'everysec', 'no']),
  /** Global compatibility the stack sets on the registry at start. @default BACKWARD */
  KES_REGISTRY_COMPATIBILITY: z.enum([
    'BACKWARD',
    'BACKWARD_TRANSITIVE',
    'FORWARD',
    'FORWARD_TRANSITIVE',
    'FULL',
    'FULL_TRANSITIVE',
    'NONE',
  ]),
  /** Ports of the local stack. An explicitly set port that is taken is an error; a default one moves. */
  KES_KAFKA_PORT: port,
  KES_KAFKA_CONTROLLER_PORT: port,
  KES_REGISTRY_PORT: port,
  /** Quarkus' management interface (health, metrics) of the registry; it cannot be turned off at run time. */
  KES_REGISTRY_MANAGEMENT_PORT: port,
  KES_REDIS_PORT: port,
  KES_CLICKHOUSE_HTTP_PORT: port,
  KES_CLICKHOUSE_TCP_PORT: port,
  /** Seconds `kes stack up` waits for each service. @default 120 */
  KES_START_TIMEOUT_S: z.coerce.number().positive(),
});

export type KesConfig = Readonly<z.infer<typeof schema>> & {
  /** Names of the settings that were given explicitly (env, flag or stack.env), not defaulted. */
  readonly explicit: ReadonlySet<string>;
};

export const defaultPorts = {
  KES_KAFKA_PORT: 19092,
  KES_KAFKA_CONTROLLER_PORT: 19093,
  KES_REGISTRY_PORT: 18081,
  KES_REGISTRY_MANAGEMENT_PORT: 18082,
  KES_REDIS_PORT: 16379,
  KES_CLICKHOUSE_HTTP_PORT: 18123,
  KES_CLICKHOUSE_TCP_PORT: 19000,
} as const;

export function defaults(home: string): Record<keyof z.infer<typeof schema>, string | undefined> {
  return {
    KES_HOME: home,
    KES_CACHE_DIR: join(homedir(), '.cache', 'kes'),
    KES_STACK_MODE: 'auto',
    KAFKA_BROKERS: `127.0.0.1:${defaultPorts.KES_KAFKA_PORT}`,
    SCHEMA_REGISTRY_URL: `http://127.0.0.1:${defaultPorts.KES_REGISTRY_PORT}/apis/ccompat/v7`,
    REDIS_URL: `redis://127.0.0.1:${defaultPorts.KES_REDIS_PORT}`,
    CLICKHOUSE_URL: undefined,
    KES_CLICKHOUSE_SERVER_URL: undefined,
    CLICKHOUSE_EMBEDDED_PATH: join(home, 'chdb'),
    KES_REDIS_APPENDFSYNC: 'everysec',
    KES_REGISTRY_COMPATIBILITY: 'BACKWARD',
    ...Object.fromEntries(Object.entries(defaultPorts).map(([k, v]) => [k, String(v)])),
    KES_START_TIMEOUT_S: '120',
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
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.map(String).join('.') || 'config';
    throw new ConfigError(path, `${issue?.message ?? 'invalid'} (got ${JSON.stringify(raw[path] ?? null)})`);
  }
  return Object.freeze({ ...parsed.data, explicit });
}
