import type { Type, types } from 'avsc';

/**
 * Saying which field makes a schema incompatible. The registry is the judge; this module only explains:
 * - `explainIncompatibility` compares a local schema with registered versions under a compatibility level, with
 *   avsc's schema resolution, field by field. The registry's compatibility endpoint says yes or no but gives no
 *   reason (Apicurio 3.3 ignores `?verbose=true`), so `kes schemas check` gets its reasons here. It also decides
 *   when compatibility.json sets a rule the registry does not have yet (push applies it before registering).
 * - `nameRegistryFields` turns the JSON pointers of a registry refusal (`... at /fields/1/type`) into field names.
 */

export interface RegisteredType {
  version: number;
  type: Type;
}

interface LevelPlan {
  /** Against every registered version (the *_TRANSITIVE levels), else against the latest only. */
  transitive: boolean;
  /** New schema reads data written with the old one. */
  backward: boolean;
  /** Old schema reads data written with the new one. */
  forward: boolean;
}

export function levelPlan(level: string): LevelPlan {
  const transitive = level.endsWith('_TRANSITIVE');
  const base = level.replace(/_TRANSITIVE$/, '');
  return {
    transitive,
    backward: base === 'BACKWARD' || base === 'FULL',
    forward: base === 'FORWARD' || base === 'FULL',
  };
}

/**
 * Why `local` would be refused under `level` given the registered versions (oldest first); empty when avsc finds
 * it compatible. Each problem names the field, e.g. `field 'amount': type changed from long (version 1) to string`.
 */
export function explainIncompatibility(local: Type, registered: readonly RegisteredType[], level: string): string[] {
  const plan = levelPlan(level);
  const against = plan.transitive ? registered : registered.slice(-1);
  const problems: string[] = [];
  for (const old of [...against].reverse()) {
    if (plan.backward) problems.push(...resolutionProblems(local, old.type, '', 'backward', old.version));
    if (plan.forward) problems.push(...resolutionProblems(old.type, local, '', 'forward', old.version));
  }
  return [...new Set(problems)];
}

type Direction = 'backward' | 'forward';

function resolutionProblems(reader: Type, writer: Type, path: string, direction: Direction, version: number): string[] {
  if (reader.typeName === 'record' && writer.typeName === 'record' && reader.name === writer.name) {
    const problems: string[] = [];
    const writerFields = (writer as types.RecordType).fields;
    for (const field of (reader as types.RecordType).fields) {
      const fieldPath = path ? `${path}.${field.name}` : field.name;
      const source = writerFields.find((f) => f.name === field.name || (field.aliases ?? []).includes(f.name));
      if (source) {
        problems.push(...resolutionProblems(field.type, source.type, fieldPath, direction, version));
      } else if (field.defaultValue() === undefined) {
        problems.push(
          direction === 'backward'
            ? `field '${fieldPath}': added without a default, so events written with version ${version} cannot be read`
            : `field '${fieldPath}': removed, but version ${version} has it without a default, so readers on version ${version} cannot read new events`,
        );
      }
    }
    return problems;
  }
  try {
    reader.createResolver(writer);
    return [];
  } catch (error) {
    const registered = direction === 'backward' ? writer : reader;
    const local = direction === 'backward' ? reader : writer;
    const from = describeType(registered);
    const to = describeType(local);
    const where = path ? `field '${path}'` : 'the record';
    if (from !== to) return [`${where}: type changed from ${from} (version ${version}) to ${to}`];
    return [`${where}: ${(error as Error).message} (against version ${version}, ${direction})`];
  }
}

/** A short name for a type: `string`, `kes.example.Money`, `[null, string]`, `array<long>`. */
export function describeType(type: Type): string {
  const t = type as Type & {
    types?: Type[];
    itemsType?: Type;
    valuesType?: Type;
    underlyingType?: Type;
  };
  if (t.underlyingType) return describeType(t.underlyingType);
  if (t.typeName.startsWith('union')) return `[${(t.types ?? []).map(describeType).join(', ')}]`;
  if (t.typeName === 'array' && t.itemsType) return `array<${describeType(t.itemsType)}>`;
  if (t.typeName === 'map' && t.valuesType) return `map<${describeType(t.valuesType)}>`;
  return t.name ?? t.typeName;
}

/**
 * Rewrites the JSON pointers in a registry refusal into field names. Apicurio lists differences like
 * `reader type: INT not compatible with writer type: STRING at /fields/1/type` or `owner at /fields/2`, where the
 * pointer is into the reader schema: the new (local) one for the BACKWARD half, the registered one for FORWARD.
 * A pointer that names the same field in both is unambiguous; otherwise the reader type in the message decides.
 */
export function nameRegistryFields(detail: string, localSchema: unknown, registeredSchema?: unknown): string {
  const diffs = [...detail.matchAll(/(.*?) at (\/[^\s,\]]*)(?:, |$)/gs)];
  if (diffs.length === 0) return detail;
  return diffs
    .map(([, message = '', pointer = '']) => {
      const field = fieldAt(pointer, message, localSchema, registeredSchema);
      if (!field) return `${message} at ${pointer}`;
      if (message === field.split('.').pop()) return `field '${field}': no value in the other version and no default`;
      return `field '${field}': ${message}`;
    })
    .join('; ');
}

function fieldAt(pointer: string, message: string, local: unknown, registered: unknown): string | undefined {
  const inLocal = walkPointer(local, pointer);
  const inRegistered = registered === undefined ? undefined : walkPointer(registered, pointer);
  if (!inLocal || !inRegistered) return (inLocal ?? inRegistered)?.path;
  if (inLocal.path === inRegistered.path) return inLocal.path;
  const readerType = /reader type: (\w+)/.exec(message)?.[1]?.toLowerCase();
  const bare = /^(\w+)$/.exec(message)?.[1];
  if (bare === inLocal.path.split('.').pop() || readerType === typeWord(inLocal.schema)) return inLocal.path;
  if (bare === inRegistered.path.split('.').pop() || readerType === typeWord(inRegistered.schema)) {
    return inRegistered.path;
  }
  return `${inLocal.path}' (this schema) or '${inRegistered.path}`;
}

/** Follows `/fields/N/type/...` through a schema's JSON and collects the field names on the way. */
function walkPointer(schema: unknown, pointer: string): { path: string; schema: unknown } | undefined {
  const tokens = pointer.split('/').filter(Boolean);
  const names: string[] = [];
  let node: unknown = schema;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string;
    if (node === null || typeof node !== 'object') return undefined;
    if (token === 'fields') {
      const fields = (node as { fields?: { name: string }[] }).fields;
      const field = fields?.[Number(tokens[i + 1])];
      if (!field) return undefined;
      names.push(field.name);
      node = field;
      i++;
    } else {
      node = (node as Record<string, unknown>)[token];
    }
  }
  return names.length ? { path: names.join('.'), schema: node } : undefined;
}

function typeWord(schema: unknown): string | undefined {
  const type = schema !== null && typeof schema === 'object' ? (schema as { type?: unknown }).type : schema;
  if (typeof type === 'string') return type.toLowerCase();
  if (Array.isArray(type)) return 'union';
  if (type !== null && typeof type === 'object') return String((type as { type?: unknown }).type).toLowerCase();
  return undefined;
}
