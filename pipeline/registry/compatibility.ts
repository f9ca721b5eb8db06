import { RegistryError, ServiceUnavailableError } from '../errors.js';

/** The registry's compatibility levels (Confluent's, which Apicurio's ccompat API takes too). */
export const compatibilityLevels = [
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
  'NONE',
] as const;
export type CompatibilityLevel = (typeof compatibilityLevels)[number];

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
  const body = await response.text().catch(() => '');
  if (!response.ok) throw new RegistryError(`set global compatibility to ${level}`, response.status, body.trim());
}
