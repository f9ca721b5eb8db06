import avro from 'avsc';
import { SchemaIncompatibleError } from '../errors.js';
import {
  checkCompatibility,
  deleteSubjectCompatibility,
  getCompatibility,
  getSubjectVersion,
  listSubjectVersions,
  lookupSchema,
  registerSchema,
  setSubjectCompatibility,
} from '../registry/subjects.js';
import { explainIncompatibility, levelPlan, nameRegistryFields, type RegisteredType } from './compatibilityDetail.js';
import type { LocalSchema } from './localSchemas.js';

/**
 * Local schemas against the registry. `checkSchemas` only reads; `pushSchemas` applies compatibility.json, then
 * registers, and registers nothing when any schema would be refused.
 */

export type SchemaStatus = 'new' | 'unchanged' | 'compatible' | 'incompatible';

export interface SchemaCheck {
  file: string;
  type: string;
  subject: string;
  status: SchemaStatus;
  /** Why it is incompatible (naming the field), or a note (a compatibility rule push will apply). */
  detail?: string;
  /** `unchanged`: the version this schema is; `compatible`/`incompatible`: the latest registered version. */
  registeredVersion?: number;
  /** The rule the subject will be held to: compatibility.json's, else the registry's global one. */
  compatibility: string;
  /** The rule the registry holds the subject to now (differs from `compatibility` until push applies the file). */
  registryCompatibility: string;
}

export interface PushedSchema {
  file: string;
  type: string;
  subject: string;
  /** Schema id in the registry (what the wire format carries). */
  id: number;
  version: number;
  /** What the check said before the push: `new`, `unchanged` or `compatible`. */
  status: Exclude<SchemaStatus, 'incompatible'>;
  compatibility: string;
}

export async function checkSchemas(registryUrl: string, schemas: readonly LocalSchema[]): Promise<SchemaCheck[]> {
  const globalLevel = await getCompatibility(registryUrl);
  return mapLimit(schemas, 8, (schema) => checkOne(registryUrl, schema, globalLevel));
}

async function checkOne(registryUrl: string, schema: LocalSchema, globalLevel: string): Promise<SchemaCheck> {
  const { file, type, subject } = schema;
  const wanted = schema.compatibility ?? globalLevel;
  const found = await lookupSchema(registryUrl, subject, schema.schemaText);
  const base = { file, type, subject, compatibility: wanted };
  if (!found.found && !found.subjectExists) {
    return { ...base, status: 'new', registryCompatibility: wanted };
  }
  const current = await getCompatibility(registryUrl, subject);
  const pending = current === wanted ? undefined : `push sets ${wanted} (the registry has ${current})`;
  const note = pending === undefined ? {} : { detail: pending };
  const withLevels = { ...base, registryCompatibility: current };
  if (found.found) return { ...withLevels, ...note, status: 'unchanged', registeredVersion: found.version };

  const versions = await listSubjectVersions(registryUrl, subject);
  const latest = versions[versions.length - 1];
  const registeredVersion = latest === undefined ? {} : { registeredVersion: latest };
  if (pending === undefined) {
    // The registry judges under the rule it has, which is the one we want.
    const verdict = await checkCompatibility(registryUrl, subject, schema.schemaText);
    if (verdict.compatible) return { ...withLevels, ...registeredVersion, status: 'compatible' };
    const problems = explainIncompatibility(
      schema.avroType,
      await registered(registryUrl, subject, versions, wanted),
      wanted,
    );
    const detail = problems.length
      ? `under ${wanted}: ${problems.join('; ')}`
      : `refused under ${wanted} by the registry (it gave no reason; ${verdict.detail})`;
    return { ...withLevels, ...registeredVersion, status: 'incompatible', detail };
  }
  // compatibility.json asks for a rule the registry does not apply yet: judge under that rule here (avsc's schema
  // resolution), as the registry will once push has set it.
  const problems = explainIncompatibility(
    schema.avroType,
    await registered(registryUrl, subject, versions, wanted),
    wanted,
  );
  if (problems.length === 0) return { ...withLevels, ...registeredVersion, ...note, status: 'compatible' };
  return {
    ...withLevels,
    ...registeredVersion,
    status: 'incompatible',
    detail: `under ${wanted} (from compatibility.json; the registry has ${current} until push): ${problems.join('; ')}`,
  };
}

/** The registered versions a rule compares against: all of them for *_TRANSITIVE, else the latest. */
async function registered(
  registryUrl: string,
  subject: string,
  versions: number[],
  level: string,
): Promise<RegisteredType[]> {
  return Promise.all(
    (levelPlan(level).transitive ? versions : versions.slice(-1)).map(async (version) => {
      const { schema } = await getSubjectVersion(registryUrl, subject, version);
      return { version, type: avro.Type.forSchema(JSON.parse(schema)) };
    }),
  );
}

/**
 * Check everything first and register nothing if any schema would be refused (the error names the file and the
 * field). Then, per subject: set its rule from compatibility.json (or drop a rule of its own that the file no longer
 * declares), then register. Registering a schema that is already there returns its id and adds no version.
 */
export async function pushSchemas(registryUrl: string, schemas: readonly LocalSchema[]): Promise<PushedSchema[]> {
  const checks = await checkSchemas(registryUrl, schemas);
  const refused = checks.filter((c) => c.status === 'incompatible');
  const first = refused[0];
  if (first) {
    const others = refused.slice(1).map((c) => c.file);
    const more = others.length ? ` (and ${others.length} more: ${others.join(', ')})` : '';
    throw new SchemaIncompatibleError(first.subject, `${first.file}: ${first.detail ?? 'refused'}${more}`);
  }
  return mapLimit(schemas, 8, async (schema, i) => {
    const check = checks[i] as SchemaCheck;
    if (check.registryCompatibility !== check.compatibility || check.status === 'new') {
      if (schema.compatibility) await setSubjectCompatibility(registryUrl, schema.subject, schema.compatibility);
      else if (check.status !== 'new') await deleteSubjectCompatibility(registryUrl, schema.subject);
    }
    let id: number;
    try {
      ({ id } = await registerSchema(registryUrl, schema.subject, schema.schemaText));
    } catch (error) {
      if (!(error instanceof SchemaIncompatibleError)) throw error;
      // The registry disagreed with the check (or the subject changed in between): name the fields in its reason.
      const latest = await getSubjectVersion(registryUrl, schema.subject, 'latest').catch(() => undefined);
      const detail = nameRegistryFields(
        error.detail,
        JSON.parse(schema.schemaText),
        latest && JSON.parse(latest.schema),
      );
      throw new SchemaIncompatibleError(schema.subject, `${schema.file}: ${detail}`);
    }
    const found = await lookupSchema(registryUrl, schema.subject, schema.schemaText);
    const version = found.found ? found.version : 0;
    const status = check.status as PushedSchema['status'];
    return {
      file: schema.file,
      type: schema.type,
      subject: schema.subject,
      id,
      version,
      status,
      compatibility: check.compatibility,
    };
  });
}

async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
