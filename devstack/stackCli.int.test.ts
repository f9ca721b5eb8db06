import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEngine } from '../pipeline/clickhouse/openEngine.js';
import { readOwner } from '../pipeline/clickhouse/ownership.js';
import { readEnvFile } from '../pipeline/config/stackEnvFile.js';
import { registerSchema } from '../pipeline/registry/subjects.js';
import { freePorts } from '../test/support/freePort.js';
import { uniqueName } from '../test/support/names.js';
import { runKes } from '../test/support/runKes.js';
import { waitFor } from '../test/support/waitFor.js';
import { isPortFree } from './ports.js';
import { isOurProcess, readPid } from './processes.js';

/**
 * `kes stack` as a user runs it, on a stack of its own (own KES_HOME, own ports) beside the shared test stack:
 * it starts real services, restarts only what crashed, keeps data, stops only its own processes, and says
 * clearly what is wrong when it cannot start.
 */

function pidOf(home: string, service: string): number {
  const pid = readPid(join(home, service, `${service}.pid`));
  if (pid === undefined) throw new Error(`no pid file for ${service}`);
  return pid;
}

describe('kes stack lifecycle (own home and ports)', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  let ports: number[];

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'kes-stack-'));
    ports = await freePorts(9);
    const [kafka, controller, registry, redis, chHttp, chTcp, registryManagement, chEmbedded, postgres] =
      ports.map(String);
    env = {
      KES_KAFKA_PORT: kafka,
      KES_KAFKA_CONTROLLER_PORT: controller,
      KES_REGISTRY_PORT: registry,
      KES_REGISTRY_MANAGEMENT_PORT: registryManagement,
      KES_REDIS_PORT: redis,
      KES_CLICKHOUSE_HTTP_PORT: chHttp,
      KES_CLICKHOUSE_TCP_PORT: chTcp,
      KES_CLICKHOUSE_EMBEDDED_PORT: chEmbedded,
      KES_POSTGRES_PORT: postgres,
      // Every write reaches the AOF before it is acknowledged, so a kill -9 loses nothing in this test.
      KES_REDIS_APPENDFSYNC: 'always',
    };
  });

  afterAll(async () => {
    await runKes(['--home', home, 'stack', 'down'], { env });
  });

  // It starts a whole stack (six services, two of them on the JVM), restarts three and stops it, on 2 cores beside
  // the rest of the suite: 70 s in a quiet CI run, over 120 s in a busy one.
  it('starts, restarts only crashed services over their data, and stops only its own processes', {
    timeout: 240_000,
  }, async () => {
    const up = await runKes(['--home', home, 'stack', 'up'], { env });
    expect(up.stderr).not.toMatch(/kes: /);
    expect(up.code).toBe(0);
    const addresses = readEnvFile(join(home, 'stack.env'));
    expect(addresses).toMatchObject({
      KAFKA_BROKERS: `127.0.0.1:${ports[0]}`,
      SCHEMA_REGISTRY_URL: `http://127.0.0.1:${ports[2]}/apis/ccompat/v7`,
      REDIS_URL: `redis://127.0.0.1:${ports[3]}`,
      KES_CLICKHOUSE_SERVER_URL: `http://127.0.0.1:${ports[4]}`,
      POSTGRES_URL: `postgres://kes@127.0.0.1:${ports[8]}/kes`,
    });
    for (const value of Object.values(addresses)) expect(up.stdout).toContain(value.split(',')[0]);
    // The embedded engine is a process of its own, found through its owner file, not through CLICKHOUSE_URL.
    const embeddedPath = join(home, 'chdb');
    expect(addresses.CLICKHOUSE_URL).toBeUndefined();
    expect(addresses.CLICKHOUSE_EMBEDDED_PATH).toBe(embeddedPath);
    const embeddedUrl = `http://127.0.0.1:${ports[7]}`;
    expect(up.stdout).toContain(embeddedUrl);
    expect(readOwner(embeddedPath)).toMatchObject({ pid: pidOf(home, 'clickhouse-embedded'), url: embeddedUrl });

    // Data in every service.
    const kafka = new Kafka({ brokers: [`127.0.0.1:${ports[0]}`], clientId: 'lifecycle', logLevel: logLevel.NOTHING });
    const topic = uniqueName('lifecycle');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: 'kept' }] });
    await producer.disconnect();
    await admin.disconnect();
    const redisUrl = addresses.REDIS_URL ?? '';
    const redis = new Redis(redisUrl);
    await redis.set('lifecycle', 'kept');
    redis.disconnect();
    const registryUrl = addresses.SCHEMA_REGISTRY_URL ?? '';
    const schema = JSON.stringify({ type: 'record', name: 'Kept', fields: [{ name: 'a', type: 'string' }] });
    const { id } = await registerSchema(registryUrl, 'kept-value', schema);
    const chUrl = addresses.KES_CLICKHOUSE_SERVER_URL ?? '';
    await chQuery(chUrl, 'CREATE TABLE IF NOT EXISTS default.kept (a String) ENGINE = MergeTree ORDER BY a');
    await chQuery(chUrl, "INSERT INTO default.kept VALUES ('kept')");
    const embedded = await openEngine({ CLICKHOUSE_URL: undefined, CLICKHOUSE_EMBEDDED_PATH: embeddedPath });
    expect(embedded.kind).toBe('embedded-remote');
    await embedded.command('CREATE TABLE IF NOT EXISTS default.kept (a String) ENGINE = MergeTree ORDER BY a');
    await embedded.insert('default.kept', [{ a: 'kept in chdb' }]);
    await embedded.close();
    const postgresUrl = addresses.POSTGRES_URL ?? '';
    await pgQuery(postgresUrl, "CREATE TABLE kept AS SELECT 'kept' AS a");

    // A second `up` changes nothing.
    const before = Object.fromEntries(
      ['kafka', 'registry', 'redis', 'clickhouse', 'clickhouse-embedded'].map((s) => [s, pidOf(home, s)]),
    );
    const again = await runKes(['--home', home, 'stack', 'up'], { env });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('kafka: already running');
    for (const [service, pid] of Object.entries(before)) expect(pidOf(home, service)).toBe(pid);

    // Crash three services.
    process.kill(before.kafka ?? 0, 'SIGKILL');
    process.kill(before.redis ?? 0, 'SIGKILL');
    process.kill(before['clickhouse-embedded'] ?? 0, 'SIGKILL');
    await waitFor(
      'the killed processes to be gone',
      () =>
        !isOurProcess(before.kafka ?? 0, join(home, 'kafka')) &&
        !isOurProcess(before['clickhouse-embedded'] ?? 0, join(home, 'clickhouse-embedded')),
    );
    const status = await runKes(['--home', home, 'stack', 'status', '--format', 'json'], { env });
    expect(status.code).toBe(1);
    const rows = JSON.parse(status.stdout) as { service: string; state: string }[];
    expect(Object.fromEntries(rows.map((r) => [r.service, r.state]))).toMatchObject({
      kafka: 'down',
      redis: 'down',
      registry: 'up',
      clickhouse: 'up',
      'clickhouse-embedded': 'down',
    });

    // `up` restarts only those three; everything written before is still there.
    const recovered = await runKes(['--home', home, 'stack', 'up'], { env });
    expect(recovered.code).toBe(0);
    expect(recovered.stderr).toContain('registry: already running');
    expect(pidOf(home, 'registry')).toBe(before.registry);
    expect(pidOf(home, 'clickhouse')).toBe(before.clickhouse);
    expect(pidOf(home, 'kafka')).not.toBe(before.kafka);
    expect(pidOf(home, 'clickhouse-embedded')).not.toBe(before['clickhouse-embedded']);
    expect(readOwner(embeddedPath)?.pid).toBe(pidOf(home, 'clickhouse-embedded'));
    const reconnected = new Redis(redisUrl);
    expect(await reconnected.get('lifecycle')).toBe('kept');
    reconnected.disconnect();
    expect(await readAll(kafka, topic)).toEqual(['kept']);
    expect(await chQuery(chUrl, 'SELECT a FROM default.kept')).toBe('kept');
    const reopened = await openEngine({ CLICKHOUSE_URL: undefined, CLICKHOUSE_EMBEDDED_PATH: embeddedPath });
    expect(await reopened.query('SELECT a FROM default.kept')).toEqual([{ a: 'kept in chdb' }]);
    await reopened.close();
    const statusRows = JSON.parse(
      (await runKes(['--home', home, 'stack', 'status', '--format', 'json'], { env })).stdout,
    ) as Record<string, unknown>[];
    expect(statusRows.find((r) => r.service === 'clickhouse-embedded')).toMatchObject({
      state: 'up',
      address: embeddedUrl,
      pid: pidOf(home, 'clickhouse-embedded'),
      version: expect.stringMatching(/^2\d\.\d+\.\d+\.\d+ \(chdb\)$/),
    });

    // The registry keeps its schemas across a clean restart.
    expect((await runKes(['--home', home, 'stack', 'down', '--only', 'registry'], { env })).code).toBe(0);
    expect((await runKes(['--home', home, 'stack', 'up', '--only', 'registry'], { env })).code).toBe(0);
    // So does Postgres (a fast shutdown, then the same cluster), and status gives its version.
    expect((await runKes(['--home', home, 'stack', 'down', '--only', 'postgres'], { env })).code).toBe(0);
    expect((await runKes(['--home', home, 'stack', 'up', '--only', 'postgres'], { env })).code).toBe(0);
    expect(await pgQuery(postgresUrl, 'SELECT a FROM kept')).toEqual([{ a: 'kept' }]);
    const postgresRow = (
      JSON.parse((await runKes(['--home', home, 'stack', 'status', '--format', 'json'], { env })).stdout) as Record<
        string,
        unknown
      >[]
    ).find((r) => r.service === 'postgres');
    expect(postgresRow).toMatchObject({
      state: 'up',
      address: postgresUrl,
      version: expect.stringMatching(/^\d+\.\d+/),
    });
    const kept = await fetch(`${registryUrl}/schemas/ids/${id}`);
    expect(kept.status).toBe(200);
    expect(((await kept.json()) as { schema: string }).schema).toContain('Kept');
    expect((await fetch(`${registryUrl}/config`).then((r) => r.json())) as object).toMatchObject({
      compatibilityLevel: 'BACKWARD',
    });

    const logs = await runKes(['--home', home, 'stack', 'logs', 'redis', '-n', '5'], { env });
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/Ready to accept connections/);

    // `down` stops exactly this stack's processes; the shared test stack keeps running.
    const pids = ['kafka', 'registry', 'redis', 'clickhouse', 'clickhouse-embedded', 'postgres'].map((s) =>
      pidOf(home, s),
    );
    const down = await runKes(['--home', home, 'stack', 'down'], { env });
    expect(down.code).toBe(0);
    for (const pid of pids) expect(isOurProcess(pid, home)).toBe(false);
    for (const port of ports) expect(await isPortFree(port)).toBe(true);
    // The owner stopped cleanly: nothing left that would make the next opener wait.
    expect(readOwner(embeddedPath)).toBeUndefined();
    const shared = await runKes(['stack', 'status', '--format', 'json'], { env: {} });
    expect(shared.stdout).toContain('"up"');
  });
});

describe('kes stack on bad input and faults', () => {
  it('names a missing program and how to install it, in one line', async () => {
    const home = mkdtempSync(join(tmpdir(), 'kes-prereq-'));
    // A PATH with node and nothing else.
    const bin = join(home, 'bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    const env = { PATH: bin, HOME: home, KES_CACHE_DIR: join(home, 'cache') };
    const redis = await runKes(['--home', home, 'stack', 'up', '--only', 'redis'], { env, replaceEnv: true });
    expect(redis.code).toBe(3);
    expect(redis.stderr.trim()).toBe(
      'kes: redis-server was not found on PATH: install it with apt-get install -y redis-server',
    );
    // Java is found under /usr/lib/jvm even off PATH; Maven is needed for the first download of Kafka's jars.
    const kafka = await runKes(['--home', home, 'stack', 'up', '--only', 'kafka'], { env, replaceEnv: true });
    expect(kafka.code).toBe(3);
    expect(kafka.stderr.trim().split('\n')).toHaveLength(1);
    expect(kafka.stderr).toMatch(/^kes: (mvn was not found on PATH: install Maven|java 17\+ was not found)/);
  });

  it('refuses an explicitly chosen port that is taken, naming the port and its holder', async () => {
    const home = mkdtempSync(join(tmpdir(), 'kes-port-'));
    const server = await listen();
    const port = portOf(server);
    const run = await runKes(['--home', home, 'stack', 'up', '--only', 'redis'], {
      env: { KES_REDIS_PORT: String(port) },
    });
    server.close();
    expect(run.code).toBe(4);
    expect(run.stderr.trim()).toBe(
      `kes: redis (KES_REDIS_PORT): port ${port} is in use by pid ${process.pid} (node); free it or choose another port`,
    );
  });

  it('moves a remembered default port that another process took, and says so', async () => {
    const home = mkdtempSync(join(tmpdir(), 'kes-move-'));
    const server = await listen();
    const port = portOf(server);
    const [a, b, c, d, e, f] = await freePorts(6);
    writeFileSync(
      join(home, 'stack.json'),
      JSON.stringify({
        mode: 'local',
        ports: {
          kafka: a,
          kafkaController: b,
          registry: c,
          registryManagement: f,
          redis: port,
          clickhouseHttp: d,
          clickhouseTcp: e,
        },
      }),
    );
    const run = await runKes(['--home', home, 'stack', 'up', '--only', 'redis'], { env: { KES_STACK_MODE: 'local' } });
    server.close();
    try {
      expect(run.code).toBe(0);
      expect(run.stderr).toContain(`port ${port} is in use by pid ${process.pid} (node); redis uses `);
      const moved = Number(readEnvFile(join(home, 'stack.env')).REDIS_URL?.split(':').pop());
      expect(moved).not.toBe(port);
      const client = new Redis(`redis://127.0.0.1:${moved}`);
      expect(await client.ping()).toBe('PONG');
      client.disconnect();
    } finally {
      await runKes(['--home', home, 'stack', 'down']);
    }
  });

  it('exits non-zero naming the service and showing its log when it cannot start', async () => {
    const home = mkdtempSync(join(tmpdir(), 'kes-broken-'));
    // A corrupt AOF manifest: Redis refuses to start rather than serve partial state.
    mkdirSync(join(home, 'redis', 'data', 'appendonlydir'), { recursive: true });
    writeFileSync(join(home, 'redis', 'data', 'appendonlydir', 'appendonly.aof.manifest'), 'not a manifest\n');
    const [port] = await freePorts(1);
    const run = await runKes(['--home', home, 'stack', 'up', '--only', 'redis'], {
      env: { KES_REDIS_PORT: String(port) },
    });
    expect(run.code).toBe(6);
    expect(run.stderr).toContain('kes: redis failed to start: the process exited');
    expect(run.stderr).toContain(`last lines of ${join(home, 'redis', 'redis.log')}`);
    expect(run.stderr).toContain('Invalid AOF manifest file format');
    expect(readFileSync(join(home, 'redis', 'redis.log'), 'utf8')).toContain('Invalid AOF manifest');
  });

  it('two concurrent `up`s start each service once', async () => {
    const home = mkdtempSync(join(tmpdir(), 'kes-race-'));
    const [port] = await freePorts(1);
    const env = { KES_REDIS_PORT: String(port) };
    try {
      const runs = await Promise.all(
        [1, 2].map(() => runKes(['--home', home, 'stack', 'up', '--only', 'redis'], { env })),
      );
      expect(runs.map((r) => r.code)).toEqual([0, 0]);
      expect(runs.map((r) => r.stderr).join('\n')).toContain('redis: already running');
      const ours = readdirSync('/proc').filter(
        (pid) => /^\d+$/.test(pid) && isOurProcess(Number(pid), join(home, 'redis')),
      );
      expect(ours).toEqual([String(pidOf(home, 'redis'))]);
    } finally {
      await runKes(['--home', home, 'stack', 'down']);
    }
  });

  it('answers unknown services and bad flags with the valid choices and exit code 2', async () => {
    const home = mkdtempSync(join(tmpdir(), 'kes-usage-'));
    const logs = await runKes(['--home', home, 'stack', 'logs', 'mysql']);
    expect(logs.code).toBe(2);
    expect(logs.stderr.trim()).toBe(
      "kes: unknown service 'mysql'; valid: kafka, registry, redis, clickhouse, postgres, clickhouse-embedded",
    );
    const only = await runKes(['--home', home, 'stack', 'up', '--only', 'kafka,mysql']);
    expect(only.code).toBe(2);
    expect(only.stderr).toContain(
      "--only: unknown service 'mysql'; valid: kafka, registry, redis, clickhouse, postgres, clickhouse-embedded",
    );
    const format = await runKes(['--home', home, 'stack', 'status', '--format', 'xml']);
    expect(format.code).toBe(2);
    expect(format.stderr).toContain('Allowed choices are table, json, csv');
    const badPort = await runKes(['--home', home, 'stack', 'up'], { env: { KES_KAFKA_PORT: '99999' } });
    expect(badPort.code).toBe(2);
    expect(badPort.stderr.trim()).toMatch(/^kes: KES_KAFKA_PORT: .* \(got "99999"\)$/);
  });
});

function listen(): Promise<Server> {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.listen({ port: 0, host: '127.0.0.1' }, () => resolvePromise(server));
  });
}

function portOf(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('not listening');
  return address.port;
}

async function chQuery(url: string, sql: string): Promise<string> {
  const response = await fetch(`${url}/`, { method: 'POST', body: sql });
  const text = await response.text();
  if (!response.ok) throw new Error(`ClickHouse: ${text}`);
  return text.trim();
}

async function pgQuery(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

async function readAll(kafka: Kafka, topic: string): Promise<string[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('lifecycle') });
  const seen: string[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      seen.push(message.value?.toString() ?? '');
    },
  });
  await waitFor('the record written before the crash', () => seen.length >= 1, 60_000);
  await consumer.disconnect();
  return seen;
}
