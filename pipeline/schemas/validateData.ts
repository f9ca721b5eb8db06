import type { Type, types } from 'avsc';

/**
 * Checks JSON-shaped event data against an Avro type, stricter than avsc's default: fields the schema does not
 * declare are refused (typos should not vanish silently), `long` takes safe integers only, missing fields are
 * refused unless the schema gives them a default. The common case (valid data) costs one compiled avsc check; only
 * invalid data is walked again to say where.
 *
 * Paths are written the way a client reads its own JSON: `amount`, `items[2].sku`, `labels.color`, `''` for the
 * whole value. Unions are JSON values of one of their branches (`null` or a string for `["null","string"]`); avsc
 * wraps only ambiguous unions, and those take `{ "<branch name>": value }`.
 */

export interface DataProblem {
  path: string;
  message: string;
}

const strict = { noUndeclaredFields: true } as const;

export function validateData(type: Type, data: unknown): DataProblem | null {
  if (type.isValid(data, strict)) return null;
  return findProblem(type, data, '') ?? { path: '', message: `not a valid ${describe(type)}` };
}

type AnyType = Type & {
  fields?: types.Field[];
  types?: Type[];
  itemsType?: Type;
  valuesType?: Type;
  symbols?: string[];
  size?: number;
  underlyingType?: Type;
};

function findProblem(type: Type, value: unknown, path: string): DataProblem | null {
  const t = type as AnyType;
  switch (t.typeName) {
    case 'record':
    case 'error':
      return recordProblem(t, value, path);
    case 'array': {
      if (!Array.isArray(value)) return expected(path, 'an array', value);
      for (let i = 0; i < value.length; i++) {
        const problem = findProblem(t.itemsType as Type, value[i], `${path}[${i}]`);
        if (problem) return problem;
      }
      return null;
    }
    case 'map': {
      if (!isPlainObject(value)) return expected(path, 'an object (map)', value);
      for (const [key, item] of Object.entries(value)) {
        const problem = findProblem(t.valuesType as Type, item, join(path, key));
        if (problem) return problem;
      }
      return null;
    }
    case 'union:unwrapped':
      return unionProblem(t.types ?? [], value, path);
    case 'union:wrapped':
      return wrappedUnionProblem(t.types ?? [], value, path);
    default:
      if (t.underlyingType) return findProblem(t.underlyingType, value, path);
      return type.isValid(value, strict) ? null : { path, message: primitiveMessage(t, value) };
  }
}

function recordProblem(t: AnyType, value: unknown, path: string): DataProblem | null {
  if (!isPlainObject(value)) return expected(path, `an object (${describe(t)})`, value);
  const fields = t.fields ?? [];
  const declared = new Set(fields.map((f) => f.name));
  for (const key of Object.keys(value)) {
    if (!declared.has(key)) {
      return {
        path: join(path, key),
        message: `unknown field; ${describe(t)} has ${[...declared].join(', ') || 'no fields'}`,
      };
    }
  }
  for (const field of fields) {
    const item = value[field.name];
    const fieldPath = join(path, field.name);
    if (item === undefined) {
      if (field.defaultValue() === undefined) return { path: fieldPath, message: `required ${describe(field.type)}` };
      continue;
    }
    const problem = findProblem(field.type, item, fieldPath);
    if (problem) return problem;
  }
  return null;
}

function unionProblem(branches: Type[], value: unknown, path: string): DataProblem | null {
  if (branches.some((b) => b.isValid(value, strict))) return null;
  // Descend into the one branch the value looks like (an object into the record, an array into the array), so the
  // path points inside it; otherwise say which branches there are.
  const kind = Array.isArray(value) ? 'array' : isPlainObject(value) ? 'object' : typeof value;
  const alike = branches.filter((b) => jsonKind(b) === kind);
  if (alike.length === 1) return findProblem(alike[0] as Type, value, path);
  return expected(path, `one of ${branches.map(describe).join(' | ')}`, value);
}

function wrappedUnionProblem(branches: Type[], value: unknown, path: string): DataProblem | null {
  if (value === null && branches.some((b) => b.typeName === 'null')) return null;
  const names = branches.filter((b) => b.typeName !== 'null').map((b) => b.branchName ?? b.typeName);
  if (!isPlainObject(value) || Object.keys(value).length !== 1) {
    return expected(path, `an object with one key naming the branch (${names.join(' | ')})`, value);
  }
  const [key, inner] = Object.entries(value)[0] as [string, unknown];
  const branch = branches.find((b) => (b.branchName ?? b.typeName) === key);
  if (!branch) return { path: join(path, key), message: `unknown branch; expected one of ${names.join(' | ')}` };
  return findProblem(branch, inner, join(path, key));
}

function primitiveMessage(t: AnyType, value: unknown): string {
  switch (t.typeName) {
    case 'long':
      return typeof value === 'number' && Number.isInteger(value)
        ? `expected long: ${value} is beyond the safe integer range (±${Number.MAX_SAFE_INTEGER})`
        : `expected long (an integer), got ${got(value)}`;
    case 'int':
      return typeof value === 'number' && Number.isInteger(value)
        ? `expected int: ${value} is beyond 32 bits`
        : `expected int (an integer), got ${got(value)}`;
    case 'enum':
      return `expected one of ${(t.symbols ?? []).join(', ')}, got ${got(value)}`;
    case 'fixed':
      return `expected ${t.size} bytes, got ${got(value)}`;
    default:
      return `expected ${describe(t)}, got ${got(value)}`;
  }
}

function expected(path: string, what: string, value: unknown): DataProblem {
  return { path, message: `expected ${what}, got ${got(value)}` };
}

function got(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${value}`;
  if (typeof value === 'object') return 'an object';
  return typeof value;
}

function jsonKind(type: Type): string {
  const t = type as AnyType;
  if (t.underlyingType) return jsonKind(t.underlyingType);
  switch (t.typeName) {
    case 'record':
    case 'error':
    case 'map':
      return 'object';
    case 'array':
      return 'array';
    case 'int':
    case 'long':
    case 'float':
    case 'double':
      return 'number';
    case 'string':
    case 'enum':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'null':
      return 'null';
    default:
      return t.typeName;
  }
}

function describe(type: Type): string {
  const t = type as AnyType;
  if (t.typeName === 'record' || t.typeName === 'enum' || t.typeName === 'fixed') {
    return t.name ? (t.name.split('.').pop() as string) : t.typeName;
  }
  if (t.typeName.startsWith('union')) return (t.types ?? []).map(describe).join(' | ');
  if (t.typeName === 'array') return `array of ${describe(t.itemsType as Type)}`;
  if (t.typeName === 'map') return `map of ${describe(t.valuesType as Type)}`;
  if (t.underlyingType) return describe(t.underlyingType);
  return t.typeName;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !Buffer.isBuffer(value);
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function join(path: string, key: string): string {
  if (!IDENTIFIER.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path ? `${path}.${key}` : key;
}
