import type { Admin, Kafka } from 'kafkajs';
import type { ClickHouseEngine } from '../../pipeline/clickhouse/engine.js';
import type { KesConfig } from '../../pipeline/config/config.js';
import { categoryOfTopic } from '../../pipeline/events/streamName.js';
import { assertReadCommittedPatched } from '../../pipeline/kafka/readCommittedPatch.js';
import { ProjectionCatalog, type ServingVersion } from '../catalog/projectionCatalog.js';
import type { ProjectorMetrics } from '../metrics.js';
import type { Projection } from '../readModels/projection.js';
import { DeadLetterSink } from './deadLetterSink.js';
import { EventDecoder } from './eventDecoder.js';
import { Projector } from './projector.js';

export type ProjectorSettings = Pick<
  KesConfig,
  | 'SCHEMA_REGISTRY_URL'
  | 'KES_TOPIC_PREFIX'
  | 'KES_CLICKHOUSE_DATABASE'
  | 'KES_PROJECTOR_GROUP_PREFIX'
  | 'KES_DEADLETTER_PREFIX'
  | 'KES_PROJECTOR_BATCH_ROWS'
  | 'KES_PROJECTOR_BATCH_MS'
  | 'KES_PROJECTOR_FETCH_BYTES'
  | 'KES_PROJECTOR_SESSION_TIMEOUT_MS'
>;

export interface ProjectorServiceOptions {
  settings: ProjectorSettings;
  kafka: Kafka;
  engine: ClickHouseEngine;
  projections: readonly Projection[];
  metrics: ProjectorMetrics;
  /** How often the category topics and the serving versions are looked up again. @default 2000 */
  pollMs?: number;
  log?: ((line: string) => void) | undefined;
  /** The service stops for good (a dead-letter topic that cannot be written, a batch that keeps failing). */
  onFatal?: ((error: unknown) => void) | undefined;
}

export interface ProjectionRuntime {
  projection: string;
  version: number | undefined;
  group: string | undefined;
  topics: string[];
  assignedPartitions: number;
  running: boolean;
}

interface Running {
  projection: Projection;
  serving: ServingVersion;
  topics: string[];
  projector: Projector;
}

/**
 * Runs one consumer per projection and keeps it pointed at the right place: the serving version (a rebuild
 * swaps it; this process follows within `pollMs`), and every category topic (a category's topic appears on its
 * first append; kafkajs subscriptions are fixed at subscribe time, so a new topic restarts the consumer, which
 * resumes from its committed offsets).
 */
export class ProjectorService {
  readonly catalog: ProjectionCatalog;
  private readonly decoder: EventDecoder;
  private readonly running = new Map<string, Running>();
  private admin: Admin | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private ticking: Promise<void> = Promise.resolve();

  constructor(private readonly options: ProjectorServiceOptions) {
    const s = options.settings;
    this.catalog = new ProjectionCatalog(options.engine, s.KES_CLICKHOUSE_DATABASE, s.KES_PROJECTOR_GROUP_PREFIX);
    this.decoder = new EventDecoder(s.SCHEMA_REGISTRY_URL, s.KES_TOPIC_PREFIX);
  }

  async start(): Promise<void> {
    assertReadCommittedPatched();
    this.admin = this.options.kafka.admin();
    await this.admin.connect();
    for (const projection of this.options.projections) await this.catalog.install(projection);
    await this.tick();
    this.timer = setInterval(() => {
      this.ticking = this.ticking.then(() => this.tick()).catch((e) => this.options.log?.(String(e)));
    }, this.options.pollMs ?? 2_000);
  }

  runtime(): ProjectionRuntime[] {
    return this.options.projections.map((p) => {
      const r = this.running.get(p.name);
      return {
        projection: p.name,
        version: r?.serving.version,
        group: r?.serving.group,
        topics: r?.topics ?? [],
        assignedPartitions: r?.projector.assignedPartitions ?? 0,
        running: r !== undefined,
      };
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticking.catch(() => {});
    await Promise.all([...this.running.values()].map((r) => r.projector.stop()));
    this.running.clear();
    await this.admin?.disconnect().catch(() => {});
  }

  /** Brings every projection's consumer in line with the topics on the broker and the serving version. */
  private async tick(): Promise<void> {
    if (this.stopped || !this.admin) return;
    const prefix = this.options.settings.KES_TOPIC_PREFIX;
    const topics = (await this.admin.listTopics()).filter((t) => categoryOfTopic(prefix, t) !== undefined).sort();
    for (const projection of this.options.projections) {
      if (this.stopped) return;
      const serving = await this.catalog.serving(projection.name);
      if (!serving) continue;
      const current = this.running.get(projection.name);
      const same =
        current &&
        current.serving.version === serving.version &&
        current.topics.length === topics.length &&
        current.topics.every((t, i) => t === topics[i]);
      if (same) continue;
      if (current) {
        this.options.log?.(
          current.serving.version !== serving.version
            ? `projection ${projection.name}: version ${current.serving.version} -> ${serving.version}`
            : `projection ${projection.name}: topics now ${topics.join(', ')}`,
        );
        await current.projector.stop();
        this.running.delete(projection.name);
      }
      if (topics.length === 0) continue;
      const projector = this.projectorFor(projection, serving, topics);
      this.running.set(projection.name, { projection, serving, topics, projector });
      this.options.metrics.version.set({ projection: projection.name }, serving.version);
      await projector.start();
    }
  }

  private projectorFor(projection: Projection, serving: ServingVersion, topics: string[]): Projector {
    const s = this.options.settings;
    return new Projector({
      kafka: this.options.kafka,
      engine: this.options.engine,
      catalog: this.catalog,
      projection,
      version: serving.version,
      group: serving.group,
      topics,
      decoder: this.decoder,
      deadLetters: new DeadLetterSink(
        this.options.kafka,
        `${s.KES_DEADLETTER_PREFIX}${projection.name}`,
        projection.name,
      ),
      metrics: this.options.metrics,
      batchRows: s.KES_PROJECTOR_BATCH_ROWS,
      batchMs: s.KES_PROJECTOR_BATCH_MS,
      fetchBytes: s.KES_PROJECTOR_FETCH_BYTES,
      sessionTimeoutMs: s.KES_PROJECTOR_SESSION_TIMEOUT_MS,
      log: this.options.log,
      onCrash: (error) => {
        this.running.delete(projection.name);
        this.options.onFatal?.(error);
      },
    });
  }
}
