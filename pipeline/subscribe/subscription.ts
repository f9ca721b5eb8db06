import type { Kafka } from 'kafkajs';
import type { KesConfig } from '../config/config.js';
import type { EventCatalog } from '../schemas/eventCatalog.js';
import type { SubscribedEvent } from './subscribedEvent.js';
import type { SubscribeShape } from './subscribeOptions.js';

/** What `subscribe()` takes and gives (subscribe.ts); the running subscription is groupSubscription.ts. */
export interface HandlerContext {
  /** Aborted when the subscription closes or stops: a long handler may give up (it is then delivered again). */
  signal: AbortSignal;
  /** 1 for the first try of this delivery, then 2, 3, … for retries after the handler threw. */
  attempt: number;
}

export type SubscriptionHandler<Data = unknown> = (
  event: SubscribedEvent<Data>,
  context: HandlerContext,
) => Promise<void> | void;

export interface SubscribeOptions extends SubscribeShape {
  /** Brokers, registry and topic prefix; what is not given (and not supplied below) comes from loadConfig(). */
  config?: Partial<Pick<KesConfig, 'KAFKA_BROKERS' | 'SCHEMA_REGISTRY_URL' | 'KES_TOPIC_PREFIX'>>;
  /** A kafkajs client to use instead of one made from config.KAFKA_BROKERS. */
  kafka?: Kafka;
  /** Decodes event values (an opened EventCatalog caches writer schemas by id); else one on config's registry. */
  catalog?: Pick<EventCatalog, 'decode'>;
  /** Called once if the subscription stops on an error (the same error `done` rejects with). */
  onError?: (error: unknown) => void;
  log?: (line: string) => void;
}

export interface Subscription {
  readonly group: string;
  readonly topics: readonly string[];
  /** Resolves when the subscription has joined its group and fixed where each of its partitions starts. */
  readonly ready: Promise<void>;
  /** Resolves after close(); rejects with the error the subscription stopped on (SubscriptionHandlerError, …). */
  readonly done: Promise<void>;
  /** Partitions this member holds now. */
  readonly assignedPartitions: number;
  /** Lets in-flight handlers finish and commits them, then leaves the group. */
  close(): Promise<void>;
}
