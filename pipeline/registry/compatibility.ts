import { ServiceUnavailableError } from '../errors.js';

/** The registry answered, but not with success; carries what it said so the user can act on it. */
export class RegistryHttpError extends ServiceUnavailableError {
  readonly status: number;
  readonly body: string;
  constructor(address: string, status: number, body: string) {
    super('registry', address, new Error(`HTTP ${status}: ${body}`));
    this.message = `registry at ${address} answered HTTP ${status}${body ? `: ${body}` : ''}`;
    this.status = status;
    this.body = body;
  }
}

/**
 * Sets the registry-wide compatibility level through the Confluent-compatible API. Every subject without its
 * own level inherits it, so schema evolution is checked from the first registration on.
 * `registryUrl` is the base of that API, e.g. http://127.0.0.1:18081/apis/ccompat/v7.
 */
export async function setGlobalCompatibility(registryUrl: string, level: string): Promise<void> {
  const address = `${registryUrl.replace(/\/+$/, '')}/config`;
  let response: Response;
  try {
    response = await fetch(address, {
      method: 'PUT',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ compatibility: level }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    throw new ServiceUnavailableError('registry', address, error);
  }
  if (!response.ok) {
    const body = await response.text().catch(() => '');
    throw new RegistryHttpError(address, response.status, body.trim().slice(0, 2000));
  }
  // Drained so that the keep-alive connection goes back to the pool instead of waiting for the GC.
  await response.arrayBuffer().catch(() => undefined);
}
