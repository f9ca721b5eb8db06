import { RegistryError, SchemaIncompatibleError, ServiceUnavailableError } from '../errors.js';

/**
 * Registering and checking schemas through the Confluent REST API directly. @kafkajs/confluent-schema-registry
 * stays the encoder/decoder (Confluent wire format, schema cache), but its `register()` compares the subject's
 * `GET /config/{subject}` with the level it was asked for, and Apicurio answers that call with NONE (200) for a
 * subject that has no rule of its own, where Confluent answers 404: registration then fails for no reason.
 * Here the registry's own rule decides, which is the behaviour of both servers.
 */

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

export interface RegisteredSchema {
  subject: string;
  id: number;
}

async function call(registryUrl: string, operation: string, path: string, init: RequestInit = {}): Promise<Response> {
  try {
    return await fetch(`${registryUrl}${path}`, {
      ...init,
      headers: { 'Content-Type': CONTENT_TYPE, Accept: CONTENT_TYPE },
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    throw new ServiceUnavailableError('schema registry', `${registryUrl} (${operation})`, error);
  }
}

/** Register `schema` (Avro JSON text) under `subject`; an existing identical schema returns its id. */
export async function registerSchema(registryUrl: string, subject: string, schema: string): Promise<RegisteredSchema> {
  const response = await call(registryUrl, 'register', `/subjects/${encodeURIComponent(subject)}/versions`, {
    method: 'POST',
    body: JSON.stringify({ schema }),
  });
  const body = await response.text();
  if (response.status === 409) throw new SchemaIncompatibleError(subject, incompatibilityDetail(body));
  if (!response.ok) throw new RegistryError(`register ${subject}`, response.status, body);
  return { subject, id: (JSON.parse(body) as { id: number }).id };
}

/** Whether `schema` could be registered under `subject` now; a subject that does not exist accepts anything. */
export async function checkCompatibility(
  registryUrl: string,
  subject: string,
  schema: string,
): Promise<{ compatible: true } | { compatible: false; detail: string }> {
  const response = await call(
    registryUrl,
    'compatibility check',
    `/compatibility/subjects/${encodeURIComponent(subject)}/versions/latest?verbose=true`,
    { method: 'POST', body: JSON.stringify({ schema }) },
  );
  const body = await response.text();
  if (response.status === 404) return { compatible: true };
  if (!response.ok) throw new RegistryError(`compatibility check ${subject}`, response.status, body);
  const result = JSON.parse(body) as { is_compatible: boolean; messages?: string[] };
  if (result.is_compatible) return { compatible: true };
  return { compatible: false, detail: result.messages?.join('; ') || 'incompatible with the latest version' };
}

/** Set one subject's own compatibility rule (overrides the global one). */
export async function setSubjectCompatibility(registryUrl: string, subject: string, level: string): Promise<void> {
  const response = await call(registryUrl, 'set compatibility', `/config/${encodeURIComponent(subject)}`, {
    method: 'PUT',
    body: JSON.stringify({ compatibility: level }),
  });
  if (!response.ok) throw new RegistryError(`set compatibility of ${subject}`, response.status, await response.text());
}

function incompatibilityDetail(body: string): string {
  try {
    const parsed = JSON.parse(body) as { message?: string };
    const message = parsed.message ?? body;
    // Apicurio: "... list of diff types: [reader type: INT not compatible with writer type: STRING at /fields/0/type]"
    const diffs = /list of diff types: \[(.*)\]\s*$/s.exec(message)?.[1];
    return diffs ?? message;
  } catch {
    return body;
  }
}
