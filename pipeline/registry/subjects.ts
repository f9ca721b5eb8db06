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

/** What the registry knows of one schema under a subject (`POST /subjects/{subject}`). */
export type SchemaLookup = { found: true; id: number; version: number } | { found: false; subjectExists: boolean };

/**
 * Whether this schema is already registered under `subject`. The registry compares schemas in canonical form, so
 * whitespace, key order and (Apicurio) `doc` changes still find the registered version.
 */
export async function lookupSchema(registryUrl: string, subject: string, schema: string): Promise<SchemaLookup> {
  const response = await call(registryUrl, 'lookup', `/subjects/${encodeURIComponent(subject)}`, {
    method: 'POST',
    body: JSON.stringify({ schema }),
  });
  const body = await response.text();
  if (response.status === 404) {
    // 40401: no such subject; 40403: the subject exists, this schema is not one of its versions.
    return { found: false, subjectExists: errorCode(body) !== 40401 };
  }
  if (!response.ok) throw new RegistryError(`lookup in ${subject}`, response.status, body);
  const parsed = JSON.parse(body) as { id: number; version: number };
  return { found: true, id: parsed.id, version: parsed.version };
}

export interface SubjectVersion {
  subject: string;
  version: number;
  id: number;
  schema: string;
}

/** One registered version of `subject` (its schema text and id). */
export async function getSubjectVersion(
  registryUrl: string,
  subject: string,
  version: number | 'latest',
): Promise<SubjectVersion> {
  const path = `/subjects/${encodeURIComponent(subject)}/versions/${version}`;
  const response = await call(registryUrl, 'get version', path);
  const body = await response.text();
  if (!response.ok) throw new RegistryError(`get ${subject} version ${version}`, response.status, body);
  const parsed = JSON.parse(body) as { version: number; id: number; schema: string };
  return { subject, version: parsed.version, id: parsed.id, schema: parsed.schema };
}

/** The version numbers registered under `subject`, oldest first; empty when there is no such subject. */
export async function listSubjectVersions(registryUrl: string, subject: string): Promise<number[]> {
  const response = await call(registryUrl, 'list versions', `/subjects/${encodeURIComponent(subject)}/versions`);
  const body = await response.text();
  if (response.status === 404) return [];
  if (!response.ok) throw new RegistryError(`list versions of ${subject}`, response.status, body);
  return (JSON.parse(body) as number[]).sort((a, b) => a - b);
}

/** The schema text registered under a schema id (`GET /schemas/ids/{id}`). */
export async function getSchemaById(registryUrl: string, id: number): Promise<string> {
  const response = await call(registryUrl, 'get schema by id', `/schemas/ids/${id}`);
  const body = await response.text();
  if (!response.ok) throw new RegistryError(`get schema id ${id}`, response.status, body);
  return (JSON.parse(body) as { schema: string }).schema;
}

/**
 * The compatibility rule in force: the subject's own, else the global one (no subject, or a subject without a
 * rule of its own). `?defaultToGlobal=true` matters on Apicurio, which answers NONE for a subject without a rule.
 */
export async function getCompatibility(registryUrl: string, subject?: string): Promise<string> {
  const path = subject === undefined ? '/config' : `/config/${encodeURIComponent(subject)}?defaultToGlobal=true`;
  const response = await call(registryUrl, 'get compatibility', path);
  const body = await response.text();
  if (response.status === 404 && subject !== undefined) return getCompatibility(registryUrl);
  if (!response.ok) throw new RegistryError(`get compatibility of ${subject ?? 'the registry'}`, response.status, body);
  return (JSON.parse(body) as { compatibilityLevel: string }).compatibilityLevel;
}

/**
 * Remove a subject's own rule, so the global one applies again. Apicurio 3.3 answers 200 to the DELETE but keeps a
 * rule whose level is NONE, so a rule still in force afterwards is first set to the global level, then deleted.
 */
export async function deleteSubjectCompatibility(registryUrl: string, subject: string): Promise<void> {
  const remove = async () => {
    const response = await call(registryUrl, 'delete compatibility', `/config/${encodeURIComponent(subject)}`, {
      method: 'DELETE',
    });
    if (!response.ok && response.status !== 404) {
      throw new RegistryError(`delete compatibility of ${subject}`, response.status, await response.text());
    }
  };
  await remove();
  const global = await getCompatibility(registryUrl);
  if ((await getCompatibility(registryUrl, subject)) !== global) {
    await setSubjectCompatibility(registryUrl, subject, global);
    await remove();
  }
}

function errorCode(body: string): number | undefined {
  try {
    return (JSON.parse(body) as { error_code?: number }).error_code;
  } catch {
    return undefined;
  }
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
