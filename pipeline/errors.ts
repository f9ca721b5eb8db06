/**
 * One error hierarchy for kes. Every error has a stable code, says whether retrying can help, and carries the
 * context a reader needs to act on it (service, port, path, stream, expected, actual, partition, offset).
 * The CLI maps codes to exit codes in one place (`exitCodeFor`).
 */
export type KesErrorCode =
  | 'KES_CONFIG_INVALID'
  | 'KES_USAGE'
  | 'KES_PREREQUISITE_MISSING'
  | 'KES_PORT_IN_USE'
  | 'KES_FETCH_FAILED'
  | 'KES_KAFKA_READ_FAILED'
  | 'KES_SERVICE_START_FAILED'
  | 'KES_SERVICE_UNAVAILABLE'
  | 'KES_DOCKER_FAILED'
  | 'KES_SCHEMA_INCOMPATIBLE'
  | 'KES_REGISTRY_FAILED'
  | 'KES_SCHEMA_INVALID'
  | 'KES_INVALID_REQUEST'
  | 'KES_TOO_LARGE'
  | 'KES_UNAUTHORIZED'
  | 'KES_FORBIDDEN'
  | 'KES_WRONG_EXPECTED_VERSION'
  | 'KES_EVENT_ID_CONFLICT'
  | 'KES_ATOMIC_APPEND_FAILED'
  | 'KES_NOT_READY'
  | 'KES_FENCED'
  | 'KES_APPEND_INDETERMINATE'
  | 'KES_CHECK_FAILED'
  | 'KES_DEADLETTER_FAILED'
  | 'KES_PROJECTION_FAILED'
  | 'KES_CLICKHOUSE_QUERY'
  | 'KES_CLICKHOUSE_OWNER'
  | 'KES_COMMAND_REJECTED'
  | 'KES_COMMAND_CONFLICT'
  | 'KES_MODULE_FAILED'
  | 'KES_SUBSCRIPTION_HANDLER_FAILED'
  | 'KES_SUBSCRIPTION_UNDECODABLE';

export interface KesErrorOptions {
  retriable?: boolean;
  cause?: unknown;
  context?: Record<string, unknown>;
}

export class KesError extends Error {
  readonly code: KesErrorCode;
  /** True when the same call may succeed later without any change by the caller. */
  readonly retriable: boolean;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(code: KesErrorCode, message: string, options: KesErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.context = Object.freeze({ ...(options.context ?? {}) });
  }
}

/** A setting (env var, flag, file) has a value kes cannot use; `path` names it. */
export class ConfigError extends KesError {
  readonly path: string;
  constructor(path: string, message: string) {
    super('KES_CONFIG_INVALID', `${path}: ${message}`, { context: { path } });
    this.path = path;
  }
}

/** The command line itself is wrong (unknown service, bad flag value). */
export class UsageError extends KesError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super('KES_USAGE', message, { context });
  }
}

/** A program kes needs is not installed; the message says how to install it. */
export class PrerequisiteMissingError extends KesError {
  readonly tool: string;
  constructor(tool: string, howToInstall: string, detail?: string) {
    super('KES_PREREQUISITE_MISSING', `${tool} ${detail ?? 'is not installed'}: ${howToInstall}`, {
      context: { tool },
    });
    this.tool = tool;
  }
}

/** A port kes was told to use is taken by another process. */
export class PortInUseError extends KesError {
  readonly port: number;
  readonly service: string;
  constructor(service: string, port: number, holder: string | undefined) {
    super(
      'KES_PORT_IN_USE',
      `${service}: port ${port} is in use${holder ? ` by ${holder}` : ''}; free it or choose another port`,
      { retriable: true, context: { service, port, holder } },
    );
    this.port = port;
    this.service = service;
  }
}

/** Downloading an artifact (Maven jars, the registry archive) failed. */
export class FetchError extends KesError {
  constructor(artifact: string, detail: string, cause?: unknown) {
    super('KES_FETCH_FAILED', `could not fetch ${artifact}: ${detail}`, {
      retriable: true,
      cause,
      context: { artifact },
    });
  }
}

/**
 * Reading a partition directly (recovery, stream reads) failed: the broker answered a fetch with an error code, or the
 * range was not read in time. Retriable when leadership moved or time ran out; not when the offset or topic is gone.
 */
export class KafkaReadError extends KesError {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;

  constructor(
    at: { topic: string; partition: number; offset: number },
    detail: string,
    options: { retriable?: boolean; errorCode?: number } = {},
  ) {
    super('KES_KAFKA_READ_FAILED', `reading ${at.topic}[${at.partition}] at offset ${at.offset}: ${detail}`, {
      retriable: options.retriable ?? false,
      context: { ...at, ...(options.errorCode === undefined ? {} : { errorCode: options.errorCode }) },
    });
    this.topic = at.topic;
    this.partition = at.partition;
    this.offset = at.offset;
  }
}

/** A service did not become ready; carries the tail of its log so the user sees why. */
export class ServiceStartError extends KesError {
  readonly service: string;
  readonly logPath: string | undefined;
  readonly logTail: string;
  constructor(service: string, reason: string, logPath: string | undefined, logTail: string) {
    super('KES_SERVICE_START_FAILED', `${service} failed to start: ${reason}`, {
      context: { service, logPath },
    });
    this.service = service;
    this.logPath = logPath;
    this.logTail = logTail;
  }
}

/** A service kes needs is not reachable at the configured address. */
export class ServiceUnavailableError extends KesError {
  constructor(service: string, address: string, cause?: unknown) {
    super('KES_SERVICE_UNAVAILABLE', `${service} is not reachable at ${address}`, {
      retriable: true,
      cause,
      context: { service, address },
    });
  }
}

export class DockerError extends KesError {
  constructor(message: string, cause?: unknown) {
    super('KES_DOCKER_FAILED', message, { cause });
  }
}

/** The registry refused a schema under the subject's compatibility rule; `detail` names the offending field. */
export class SchemaIncompatibleError extends KesError {
  readonly subject: string;
  readonly detail: string;
  constructor(subject: string, detail: string) {
    super('KES_SCHEMA_INCOMPATIBLE', `schema for subject '${subject}' is incompatible: ${detail}`, {
      context: { subject, detail },
    });
    this.subject = subject;
    this.detail = detail;
  }
}

/** The registry answered with an error other than incompatibility (bad schema, server error). */
export class RegistryError extends KesError {
  readonly status: number;
  constructor(operation: string, status: number, body: string) {
    super('KES_REGISTRY_FAILED', `schema registry ${operation} failed with HTTP ${status}: ${body.slice(0, 500)}`, {
      retriable: status >= 500,
      context: { operation, status },
    });
    this.status = status;
  }
}

/** A local schema file cannot be used (not valid Avro, not a record, duplicate type); `file` names it. */
export class SchemaFileError extends KesError {
  readonly file: string;
  constructor(file: string, message: string, cause?: unknown) {
    super('KES_SCHEMA_INVALID', `${file}: ${message}`, { cause, context: { file } });
    this.file = file;
  }
}

/** A request kes cannot accept as given; `path` names the offending field (e.g. `events[2].data.amount`). */
export class InvalidRequestError extends KesError {
  readonly error: string;
  readonly path: string;
  constructor(error: string, path: string, message: string) {
    super('KES_INVALID_REQUEST', `${path}: ${message}`, { context: { error, path } });
    this.error = error;
    this.path = path;
  }
}

/** The body or one event is larger than the configured limit. */
export class TooLargeError extends KesError {
  readonly path: string;
  constructor(path: string, size: number, limit: number) {
    super('KES_TOO_LARGE', `${path}: ${size} bytes exceeds the limit of ${limit}`, { context: { path, size, limit } });
    this.path = path;
  }
}

export class UnauthorizedError extends KesError {
  constructor(message = 'missing or unknown API key (send Authorization: Bearer <key>)') {
    super('KES_UNAUTHORIZED', message);
  }
}

/** The caller's API key does not own the category it tried to write: each service writes only its own. */
export class ForbiddenError extends KesError {
  constructor(service: string, category: string, action = 'write') {
    super('KES_FORBIDDEN', `service '${service}' may not ${action} category '${category}'`, {
      context: { service, category },
    });
  }
}

/** The stream was not at the version the append expected; nothing was written. */
export class WrongExpectedVersionError extends KesError {
  readonly stream: string;
  readonly expected: string | number;
  readonly actual: number;
  constructor(stream: string, expected: string | number, actual: number) {
    super('KES_WRONG_EXPECTED_VERSION', `stream ${stream}: expected version ${expected}, actual ${actual}`, {
      context: { stream, expected, actual },
    });
    this.stream = stream;
    this.expected = expected;
    this.actual = actual;
  }
}

/** An event id already belongs to a different event (other content or another stream); nothing was written. */
export class EventIdConflictError extends KesError {
  readonly stream: string;
  readonly eventId: string;
  constructor(stream: string, eventId: string, detail: string) {
    super('KES_EVENT_ID_CONFLICT', `stream ${stream}: event id ${eventId} ${detail}`, {
      context: { stream, eventId },
    });
    this.stream = stream;
    this.eventId = eventId;
  }
}

/** One item of a batch of appends: what it was answered, a result or an error. */
export interface BatchItemOutcome<R = unknown> {
  stream: string;
  result?: R;
  error?: KesError;
}

/**
 * An atomic batch (`POST /appends` with `atomic: true`) was not written: nothing of it is in Kafka, unless `retriable`
 * (the outcome stayed unknown after every retry: then all of it or none of it is). `results` holds every item's
 * outcome in request order (items refused for another's sake carry `batch_aborted`); `cause` is the error of the
 * first item that failed on its own.
 */
export class AtomicAppendError extends KesError {
  readonly results: readonly BatchItemOutcome[];
  /** Index in `results` of the item whose error is the cause. */
  readonly failedIndex: number;
  constructor(results: readonly BatchItemOutcome[], failedIndex: number) {
    const failed = results[failedIndex];
    const cause = failed?.error;
    super(
      'KES_ATOMIC_APPEND_FAILED',
      `atomic batch of ${results.length} append(s) not written: item ${failedIndex} (stream ${failed?.stream}) failed: ${
        cause?.message ?? 'unknown'
      }`,
      {
        retriable: cause?.retriable ?? false,
        cause,
        context: { appends: results.length, failedIndex, stream: failed?.stream, failedCode: cause?.code },
      },
    );
    this.results = results;
    this.failedIndex = failedIndex;
  }
}

/** The guard cannot take writes yet (starting, rebuilding its state from Kafka); retry after `retryAfterS`. */
export class NotReadyError extends KesError {
  readonly retryAfterS: number;
  constructor(reason: string, retryAfterS = 1) {
    super('KES_NOT_READY', `guard not ready: ${reason}`, { retriable: true, context: { reason, retryAfterS } });
    this.retryAfterS = retryAfterS;
  }
}

/** Another producer took this guard's transactional id: this guard's open transaction can never commit. */
export class FencedError extends KesError {
  constructor(transactionalId: string, cause?: unknown) {
    super('KES_FENCED', `producer ${transactionalId} was fenced by a newer one`, {
      retriable: true,
      cause,
      context: { transactionalId },
    });
  }
}

/**
 * The append may or may not have been written (commit outcome unknown, answer lost). Retrying with the same event
 * ids is safe: the guard answers from the first write if there was one.
 */
export class AppendIndeterminateError extends KesError {
  readonly stream: string;
  constructor(stream: string, reason: string, cause?: unknown) {
    super('KES_APPEND_INDETERMINATE', `stream ${stream}: outcome unknown (${reason}); retry with the same event ids`, {
      retriable: true,
      cause,
      context: { stream, reason },
    });
    this.stream = stream;
  }
}

/** `kes check` found violations of the invariants. */
export class CheckFailedError extends KesError {
  constructor(violations: number) {
    super('KES_CHECK_FAILED', `${violations} violation(s) of the invariants`, { context: { violations } });
  }
}

/**
 * A record that could not be projected could not be written to the dead-letter topic either. The projector stops
 * (exit 14) rather than skip it: skipping would lose the event from the read models without a trace.
 */
export class DeadLetterWriteError extends KesError {
  constructor(topic: string, source: { topic: string; partition: number; offset: number }, cause: unknown) {
    super(
      'KES_DEADLETTER_FAILED',
      `cannot write to dead-letter topic ${topic} the record ${source.topic}[${source.partition}]@${source.offset}: ${
        cause instanceof Error ? cause.message : String(cause)
      }; stopping rather than skipping it`,
      { cause, context: { topic, sourceTopic: source.topic, partition: source.partition, offset: source.offset } },
    );
  }
}

/** A batch of a projection could not be written to ClickHouse (`retriable` says whether a later try may succeed). */
export class ProjectionWriteError extends KesError {
  constructor(
    projection: string,
    batch: { topic: string; partition: number; from: number; to: number }[],
    retriable: boolean,
    cause: unknown,
  ) {
    const where = batch
      .slice(0, 3)
      .map((b) => `${b.topic}[${b.partition}]@${b.from}..${b.to}`)
      .join(', ');
    super(
      'KES_PROJECTION_FAILED',
      `projection ${projection}: writing ${where}${batch.length > 3 ? ` and ${batch.length - 3} more` : ''} failed: ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
      { cause, retriable, context: { projection, batch } },
    );
  }
}

/**
 * The embedded engine's data path cannot be served here: its owner process does not answer, or chdb cannot open
 * the path. The message names the path and, when known, the owner's pid and url.
 */
export class EmbeddedOwnerError extends KesError {
  readonly path: string;
  readonly pid: number | undefined;
  readonly url: string | undefined;
  constructor(
    path: string,
    message: string,
    options: { retriable: boolean; cause?: unknown; pid?: number | undefined; url?: string | undefined },
  ) {
    super('KES_CLICKHOUSE_OWNER', message, {
      retriable: options.retriable,
      cause: options.cause,
      context: { path, pid: options.pid, url: options.url },
    });
    this.path = path;
    this.pid = options.pid;
    this.url = options.url;
  }
}

/**
 * A domain module's decide refused the command (a business rule, e.g. insufficient funds); nothing was written.
 * `reason` is the module's stable code. Retrying the same command on the same state gives the same answer.
 */
export class CommandRejectedError extends KesError {
  readonly reason: string;
  readonly stream: string;
  readonly version: number;
  /**
   * Events that record the refusal itself (a module's `reject(code, message, record)`): written before the answer,
   * so that the same command sent again is refused the same way whatever changed since.
   */
  readonly record: readonly { type: string; data: Record<string, unknown> }[];
  constructor(
    reason: string,
    message: string,
    context: { stream?: string; command?: string; version?: number } = {},
    record: readonly { type: string; data: Record<string, unknown> }[] = [],
  ) {
    super('KES_COMMAND_REJECTED', context.stream ? `${context.stream}: ${message}` : message, {
      context: { reason, ...context },
    });
    this.reason = reason;
    this.stream = context.stream ?? '';
    this.version = context.version ?? -1;
    this.record = record;
  }
}

/**
 * Every attempt of a command lost the compare-and-swap to another writer of the stream (the handler reloaded and
 * decided again each time); nothing of this command was written. Retrying later can succeed.
 */
export class CommandConflictError extends KesError {
  readonly stream: string;
  readonly attempts: number;
  readonly expected: number;
  readonly actual: number;
  constructor(stream: string, attempts: number, expected: number, actual: number) {
    super(
      'KES_COMMAND_CONFLICT',
      `stream ${stream}: ${attempts} attempt(s) each lost the compare-and-swap to another writer (last: expected version ${expected}, actual ${actual})`,
      { retriable: true, context: { stream, attempts, expected, actual } },
    );
    this.stream = stream;
    this.attempts = attempts;
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * A domain module broke its contract: decide or evolve threw something other than a rejection, or decide produced
 * an event its schema refuses. A bug in the module, not in the request; nothing was written.
 */
export class ModuleError extends KesError {
  constructor(module: string, stream: string, message: string, cause?: unknown) {
    super('KES_MODULE_FAILED', `module ${module}, stream ${stream}: ${message}`, {
      cause,
      context: { module, stream },
    });
  }
}

/**
 * A subscription's handler kept failing on one event (every retry too), so the subscription stopped there rather
 * than skip it: the event and everything after it in its partition are not committed and come again to the next
 * subscriber of the group. `cause` is the handler's last error.
 */
export class SubscriptionHandlerError extends KesError {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly stream: string;
  readonly attempts: number;
  constructor(
    group: string,
    at: { topic: string; partition: number; offset: number; stream: string; version: number },
    attempts: number,
    cause: unknown,
  ) {
    super(
      'KES_SUBSCRIPTION_HANDLER_FAILED',
      `subscription ${group}: the handler failed ${attempts} time(s) on ${at.stream}@${at.version} (${at.topic}[${
        at.partition
      }]@${at.offset}): ${cause instanceof Error ? cause.message : String(cause)}; stopped without committing it`,
      { cause, context: { group, ...at, attempts } },
    );
    this.topic = at.topic;
    this.partition = at.partition;
    this.offset = at.offset;
    this.stream = at.stream;
    this.attempts = attempts;
  }
}

/**
 * A record of a subscribed topic is not a kes event the subscription can decode (missing kes headers, a stream of
 * another category, a value its writer schema cannot read). The subscription stops there rather than skip it.
 */
export class SubscriptionRecordError extends KesError {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  constructor(
    group: string,
    at: { topic: string; partition: number; offset: number },
    reason: string,
    cause?: unknown,
  ) {
    super(
      'KES_SUBSCRIPTION_UNDECODABLE',
      `subscription ${group}: record ${at.topic}[${at.partition}]@${at.offset} cannot be delivered: ${reason}`,
      { cause, context: { group, ...at, reason } },
    );
    this.topic = at.topic;
    this.partition = at.partition;
    this.offset = at.offset;
  }
}

const exitCodes: Record<KesErrorCode, number> = {
  KES_CONFIG_INVALID: 2,
  KES_USAGE: 2,
  KES_PREREQUISITE_MISSING: 3,
  KES_PORT_IN_USE: 4,
  KES_FETCH_FAILED: 5,
  KES_KAFKA_READ_FAILED: 7,
  KES_SERVICE_START_FAILED: 6,
  KES_SERVICE_UNAVAILABLE: 7,
  KES_DOCKER_FAILED: 8,
  KES_SCHEMA_INCOMPATIBLE: 9,
  KES_REGISTRY_FAILED: 10,
  KES_SCHEMA_INVALID: 9,
  KES_INVALID_REQUEST: 2,
  KES_TOO_LARGE: 2,
  KES_UNAUTHORIZED: 11,
  KES_FORBIDDEN: 11,
  KES_WRONG_EXPECTED_VERSION: 12,
  KES_EVENT_ID_CONFLICT: 12,
  KES_ATOMIC_APPEND_FAILED: 12,
  KES_NOT_READY: 7,
  KES_FENCED: 7,
  KES_APPEND_INDETERMINATE: 7,
  KES_CHECK_FAILED: 13,
  KES_DEADLETTER_FAILED: 14,
  KES_PROJECTION_FAILED: 15,
  KES_CLICKHOUSE_QUERY: 16,
  KES_CLICKHOUSE_OWNER: 7,
  KES_COMMAND_REJECTED: 17,
  KES_COMMAND_CONFLICT: 12,
  KES_MODULE_FAILED: 18,
  KES_SUBSCRIPTION_HANDLER_FAILED: 19,
  KES_SUBSCRIPTION_UNDECODABLE: 19,
};

export function exitCodeFor(error: unknown): number {
  return error instanceof KesError ? exitCodes[error.code] : 1;
}
