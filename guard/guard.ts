import { randomBytes } from 'node:crypto';
import { logLevel } from 'kafkajs';
import type { KesConfig } from '../pipeline/config/config.js';
import { HighWatermarks } from '../pipeline/kafka/highWatermarks.js';
import { createKafka } from '../pipeline/kafka/kafkaClient.js';
import { createRedis } from '../pipeline/redis/redisClient.js';
import { type EventCatalog, openEventCatalog } from '../pipeline/schemas/eventCatalog.js';
import { CommandHandler, type CommandHooks, type CommandResult } from './commands/commandHandler.js';
import type { CommandRequest } from './commands/commandRequest.js';
import type { CommandModule } from './commands/decider.js';
import { guardStore } from './commands/guardStore.js';
import { checkModules } from './commands/moduleShape.js';
import { StateCache } from './commands/stateCache.js';
import type { GuardContext, GuardSettings } from './context.js';
import { ApiKeys } from './http/apiKeys.js';
import { buildServer } from './http/server.js';
import { createLogger, type KesLogger } from './log.js';
import { GuardMetrics } from './metrics.js';
import { windowShape } from './protocol/idWindow.js';
import { KeySpace } from './protocol/keys.js';
import { defineScripts } from './protocol/redisState.js';
import { StreamIndex } from './read/streamIndex.js';
import { StreamReader } from './read/streamReader.js';
import { Resolver } from './recovery/resolver.js';
import { StateMonitor } from './recovery/stateMonitor.js';
import { TopicDirectory } from './topics.js';
import { AppendQueue } from './write/appendQueue.js';
import { AppendService } from './write/appendService.js';
import { SlotLeases } from './write/slotLeases.js';
import { Writer } from './write/writer.js';

export interface RunningGuard {
  url: string;
  service: AppendService;
  metrics: GuardMetrics;
  /**
   * Runs a command of any module in-process, exactly as `POST /commands/{category}/{id}` does (without the API key
   * check: the caller is the process that embeds the guard).
   */
  handleCommand(module: CommandModule, id: string, command: CommandRequest): Promise<CommandResult>;
  /** Resolves once the guard takes writes. */
  whenReady(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export function guardSettings(config: KesConfig): GuardSettings {
  return {
    namespace: config.KES_REDIS_PREFIX,
    slots: config.KES_GUARD_SLOTS,
    leaseMs: config.KES_GUARD_LEASE_MS,
    reservationMs: config.KES_GUARD_RESERVATION_MS,
    lingerMs: config.KES_GUARD_LINGER_MS,
    maxBatchEvents: config.KES_GUARD_MAX_BATCH_EVENTS,
    writers: config.KES_GUARD_PIPELINE,
    windowMs: config.KES_IDEMPOTENCY_WINDOW_S * 1000,
    window: windowShape(config.KES_IDEMPOTENCY_WINDOW_S * 1000, config.KES_IDEMPOTENCY_WINDOW_EVENTS),
    appendTimeoutMs: Math.max(10_000, config.KES_GUARD_RESERVATION_MS * 3),
  };
}

/**
 * Starts a guard: checks and registers the event schemas (refusing to start on one the registry would reject),
 * connects to Kafka and Redis, validates or rebuilds its state, leases slots for its writers, and listens.
 */
export async function startGuard(
  config: KesConfig,
  options: {
    port?: number;
    host?: string;
    log?: KesLogger;
    catalog?: EventCatalog;
    /** Decider modules served at `POST /commands/{category}/{id}` (one per category). */
    modules?: readonly CommandModule[];
    /** Test hooks into the command handler (e.g. hold a decision to make its state stale). */
    commandHooks?: Pick<CommandHooks, 'afterDecide'>;
  } = {},
): Promise<RunningGuard> {
  // Checked before anything is opened: a bad module (user code, maybe loaded from a file) fails start-up cleanly.
  const modules = checkModules(options.modules ?? [], 'startGuard: modules');
  const log = options.log ?? createLogger('guard', config.KES_LOG_LEVEL);
  const keysOfApi = ApiKeys.parse(config.KES_API_KEYS);
  const catalog =
    options.catalog ??
    (await openEventCatalog({ registryUrl: config.SCHEMA_REGISTRY_URL, dir: config.KES_SCHEMAS_DIR }));
  const settings = guardSettings(config);
  const instanceId = randomBytes(6).toString('hex');
  const kafka = createKafka(config, `kes-guard-${instanceId}`, { logLevel: logLevel.NOTHING });
  // Through the sentinels when configured: a failover then reaches the guard as a reconnect to a server with
  // another run id, which invalidates the generation record and rebuilds from Kafka, like a restart does.
  const redis = createRedis(config, {
    // A command lost with its connection is not re-sent on a new one, which may be a restarted Redis: the guard
    // revalidates first (and its scripts check the server's run id anyway).
    autoResendUnfulfilledCommands: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (times) => Math.min(50 * times, 1000),
  });
  redis.on('error', () => {}); // reconnects are handled by the state monitor; errors surface per command
  defineScripts(redis);
  await new Promise<void>((resolve, reject) => {
    if (redis.status === 'ready') return resolve();
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `Redis not reachable at ${config.KES_REDIS_SENTINELS ? `sentinels ${config.KES_REDIS_SENTINELS.join(',')}` : config.REDIS_URL}`,
          ),
        ),
      15_000,
    );
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  const admin = kafka.admin();
  await admin.connect();
  const metrics = new GuardMetrics();
  const ctx: GuardContext = {
    settings,
    kafka,
    redis,
    keys: new KeySpace(config.KES_REDIS_PREFIX),
    topics: new TopicDirectory(admin, {
      prefix: config.KES_TOPIC_PREFIX,
      partitions: config.KES_TOPIC_PARTITIONS,
      replication: config.KES_TOPIC_REPLICATION,
    }),
    watermarks: new HighWatermarks(kafka),
    metrics,
    instanceId,
    log,
  };
  const state = new StateMonitor(ctx);
  const resolver = new Resolver(ctx, () => state.validated);
  const queue = new AppendQueue(
    (item) => {
      metrics.appends.inc({ outcome: item.maybeWritten ? 'unknown' : 'not_ready' });
      item.reject(AppendService.expired(item, state.validated ? undefined : state.reason));
    },
    () => !state.validated,
  );
  const slots = new SlotLeases(redis, ctx.keys, settings.slots, settings.leaseMs, instanceId);
  const writers = Array.from(
    { length: settings.writers },
    (_, i) => new Writer(ctx, queue, slots, state, resolver, `w${i}`),
  );
  const service = new AppendService(
    ctx,
    catalog,
    queue,
    state,
    writers,
    config.KES_MAX_EVENT_BYTES,
    config.KES_MAX_BATCH_APPENDS,
  );
  state.start();
  for (const writer of writers) writer.start();
  const sweeper = setInterval(() => {
    if (state.validated) void resolver.sweep().catch((error: unknown) => log.warn('sweep failed', { error }));
  }, settings.reservationMs);
  sweeper.unref();

  const reader = new StreamReader(kafka, ctx.watermarks, catalog, new StreamIndex(redis, config.KES_REDIS_PREFIX));
  ctx.locator = reader;
  const commands = new CommandHandler(
    guardStore(ctx, service, reader),
    config.KES_COMMAND_STATE_TTL_S > 0
      ? new StateCache(redis, config.KES_REDIS_PREFIX, config.KES_COMMAND_STATE_TTL_S * 1000)
      : undefined,
    {
      maxAttempts: config.KES_COMMAND_MAX_ATTEMPTS,
      retryBaseMs: config.KES_COMMAND_RETRY_BASE_MS,
      retryMaxMs: config.KES_COMMAND_RETRY_MAX_MS,
    },
    {
      ...options.commandHooks,
      onConflict: (module) => metrics.commandConflicts.inc({ category: module.category }),
      onSet: (module, size) => metrics.commandsTogether.observe({ category: module.category }, size),
      onOutcome: (module, outcome) => metrics.commands.inc({ category: module.category, outcome }),
      onStateLoad: (source, eventsRead) => {
        metrics.commandStateLoads.inc({ source });
        if (eventsRead > 0) metrics.commandEventsRead.inc(eventsRead);
      },
    },
  );
  const app = await buildServer({
    log,
    service,
    keys: keysOfApi,
    metrics,
    maxBodyBytes: config.KES_MAX_BODY_BYTES,
    maxBatch: config.KES_MAX_BATCH_APPENDS,
    commands: { handler: commands, modules },
    reader,
  });
  const address = await app.listen({
    port: options.port ?? config.KES_GUARD_PORT,
    host: options.host ?? config.KES_GUARD_HOST,
  });
  const url = address.replace('[::1]', '127.0.0.1');
  log.info('guard listening', { url, instanceId, writers: settings.writers });

  let closed = false;
  return {
    url,
    service,
    metrics,
    handleCommand: (module, id, command) => commands.handle(module, id, command),
    async whenReady(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (!service.readiness().ready) {
        if (Date.now() > deadline)
          throw new Error(`guard not ready after ${timeoutMs} ms: ${service.readiness().reason}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(sweeper);
      await app.close();
      queue.close();
      await Promise.all(writers.map((w) => w.stop()));
      state.stop();
      await reader.close();
      await ctx.watermarks.close().catch(() => {});
      await admin.disconnect().catch(() => {});
      redis.disconnect();
    },
  };
}
