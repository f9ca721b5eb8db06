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
  | 'KES_SERVICE_START_FAILED'
  | 'KES_SERVICE_UNAVAILABLE'
  | 'KES_DOCKER_FAILED'
  | 'KES_SCHEMA_INCOMPATIBLE'
  | 'KES_REGISTRY_FAILED';

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

const exitCodes: Record<KesErrorCode, number> = {
  KES_CONFIG_INVALID: 2,
  KES_USAGE: 2,
  KES_PREREQUISITE_MISSING: 3,
  KES_PORT_IN_USE: 4,
  KES_FETCH_FAILED: 5,
  KES_SERVICE_START_FAILED: 6,
  KES_SERVICE_UNAVAILABLE: 7,
  KES_DOCKER_FAILED: 8,
  KES_SCHEMA_INCOMPATIBLE: 9,
  KES_REGISTRY_FAILED: 10,
};

export function exitCodeFor(error: unknown): number {
  return error instanceof KesError ? exitCodes[error.code] : 1;
}
