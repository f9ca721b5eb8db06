/**
 * Whether a Kafka client error that stopped a consumer for good is worth starting it again for.
 *
 * kafkajs decides restarts by its own `retriable` flag, and marks a few errors as final that are not final for a
 * broker that is restarting: "Failed to find group coordinator" (KafkaJSGroupCoordinatorNotFound) is thrown while the
 * coordinator's broker is away and is non-retriable in kafkajs, so a projector or a subscription died during every
 * broker restart longer than its retries (the soak found it: "writing failed: Failed to find group coordinator").
 * What is listed here goes away when the broker comes back; anything else (a bad config, authorisation, a handler's
 * error) is still final.
 */
const TRANSIENT_NAMES = new Set([
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSLockTimeout',
  'KafkaJSStaleTopicMetadataAssignment',
]);

export function isTransientKafkaError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; depth++) {
    if (TRANSIENT_NAMES.has(e.name)) return true;
    if ((e as { retriable?: unknown }).retriable === true) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
