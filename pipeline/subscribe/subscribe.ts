import { logLevel } from 'kafkajs';
import { loadConfig } from '../config/config.js';
import { createKafka } from '../kafka/kafkaClient.js';
import { assertReadCommittedPatched } from '../kafka/readCommittedPatch.js';
import { getSchemaById } from '../registry/subjects.js';
import { buildEventCatalog } from '../schemas/eventCatalog.js';
import { GroupSubscription } from './groupSubscription.js';
import { subscriptionSettings } from './subscribeOptions.js';
import type { SubscribeOptions, Subscription, SubscriptionHandler } from './subscription.js';

export type { HandlerContext, SubscribeOptions, Subscription, SubscriptionHandler } from './subscription.js';

/**
 * A catch-up subscription: a consumer group over the categories' topics that hands each committed event to
 * `handler`, and commits its offset only after the handler has finished. Delivery is at least once: a handler that
 * was running when the process died, or the subscription closed, or the partition moved to another member, gets
 * the event again (in the same order within its partition); nothing is skipped. Docs: docs/subscribe.md.
 *
 *   const sub = subscribe({ categories: ['account'], group: 'mailer', from: 'end' }, async (event) => { … });
 *   await sub.close();
 */
export function subscribe<Data = unknown>(options: SubscribeOptions, handler: SubscriptionHandler<Data>): Subscription {
  // Records of aborted transactions must never reach a handler; refuse to run on an unpatched kafkajs.
  assertReadCommittedPatched();
  const given = options.config ?? {};
  const complete =
    given.KES_TOPIC_PREFIX !== undefined &&
    (options.kafka !== undefined || given.KAFKA_BROKERS !== undefined) &&
    (options.catalog !== undefined || given.SCHEMA_REGISTRY_URL !== undefined);
  const config = complete ? given : { ...loadConfig(), ...given };
  const prefix = config.KES_TOPIC_PREFIX as string;
  const settings = subscriptionSettings(options, prefix);
  const kafka =
    options.kafka ??
    createKafka({ KAFKA_BROKERS: config.KAFKA_BROKERS ?? [] }, `kes-subscribe-${settings.group}`, {
      logLevel: logLevel.NOTHING,
    });
  const registryUrl = config.SCHEMA_REGISTRY_URL as string;
  const catalog = options.catalog ?? buildEventCatalog([], (id) => getSchemaById(registryUrl, id));
  const subscription = new GroupSubscription(
    settings,
    kafka,
    prefix,
    (value) => catalog.decode(value),
    handler as SubscriptionHandler,
    options,
  );
  subscription.start();
  return subscription;
}
