import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, relative, sep } from 'node:path';
import avro, { type Type } from 'avsc';
import { SchemaFileError } from '../errors.js';
import { type CompatibilityLevel, compatibilityLevels } from '../registry/compatibility.js';

/**
 * The event schemas in a directory: one Avro record per event type in `<dir>/**\/<Type>.avsc`, plus optional
 * per-subject compatibility rules in `<dir>/compatibility.json`. The record's name is the event type; its full name
 * (namespace.name) is the registry subject (RecordNameStrategy), so many event types can share a category topic.
 * Every problem is a SchemaFileError naming the file.
 */

export const COMPATIBILITY_FILE = 'compatibility.json';

export interface LocalSchema {
  /** The file, relative to the working directory when it lies under it, else absolute. */
  file: string;
  /** The event type: the record's name without namespace, e.g. `AccountOpened`. */
  type: string;
  /** The registry subject: the record's full name, e.g. `kes.example.AccountOpened`. */
  subject: string;
  /** The schema as registered: the file's JSON, compact (every attribute kept: doc, logicalType, defaults). */
  schemaText: string;
  avroType: Type;
  /** The subject's own rule from compatibility.json; absent means the registry's global rule. */
  compatibility?: CompatibilityLevel;
}

export function loadLocalSchemas(dir: string, cwd: string = process.cwd()): LocalSchema[] {
  const shown = (path: string) => displayPath(path, cwd);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new SchemaFileError(shown(dir), 'schema directory does not exist (set KES_SCHEMAS_DIR or --dir)');
  }
  const schemas: LocalSchema[] = [];
  const byType = new Map<string, LocalSchema>();
  for (const path of avscFiles(dir)) {
    const schema = loadOne(path, shown(path));
    const other = byType.get(schema.type);
    if (other) {
      throw new SchemaFileError(schema.file, `declares event type '${schema.type}', which ${other.file} declares too`);
    }
    byType.set(schema.type, schema);
    schemas.push(schema);
  }
  const rules = readCompatibilityFile(join(dir, COMPATIBILITY_FILE), shown(join(dir, COMPATIBILITY_FILE)), schemas);
  for (const schema of schemas) {
    const level = rules.get(schema.subject);
    if (level) schema.compatibility = level;
  }
  return schemas;
}

function loadOne(path: string, file: string): LocalSchema {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new SchemaFileError(file, `not JSON: ${(error as Error).message}`, error);
  }
  let avroType: Type;
  try {
    avroType = avro.Type.forSchema(json as Parameters<typeof avro.Type.forSchema>[0]);
  } catch (error) {
    throw new SchemaFileError(file, `not a valid Avro schema: ${(error as Error).message}`, error);
  }
  if (avroType.typeName !== 'record' || avroType.name === undefined) {
    throw new SchemaFileError(file, `an event schema must be an Avro record, this is ${avroType.typeName}`);
  }
  const subject = avroType.name;
  const type = subject.slice(subject.lastIndexOf('.') + 1);
  const expected = `${type}.avsc`;
  if (basename(path) !== expected) {
    throw new SchemaFileError(file, `declares record '${type}', so the file must be named ${expected}`);
  }
  return { file, type, subject, schemaText: JSON.stringify(json), avroType };
}

function readCompatibilityFile(path: string, file: string, schemas: LocalSchema[]): Map<string, CompatibilityLevel> {
  const rules = new Map<string, CompatibilityLevel>();
  if (!existsSync(path)) return rules;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new SchemaFileError(file, `not JSON: ${(error as Error).message}`, error);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new SchemaFileError(file, 'expected an object { "<subject>": "<level>" }');
  }
  const subjects = new Set(schemas.map((s) => s.subject));
  for (const [subject, level] of Object.entries(json)) {
    if (!subjects.has(subject)) {
      throw new SchemaFileError(
        file,
        `unknown subject '${subject}'; subjects are the full record names: ${[...subjects].sort().join(', ') || '(none)'}`,
      );
    }
    if (typeof level !== 'string' || !(compatibilityLevels as readonly string[]).includes(level)) {
      throw new SchemaFileError(
        file,
        `${subject}: unknown compatibility level ${JSON.stringify(level)}; valid: ${compatibilityLevels.join(', ')}`,
      );
    }
    rules.set(subject, level as CompatibilityLevel);
  }
  return rules;
}

/** Every `*.avsc` under `dir`, at any depth, in a stable order; hidden directories are skipped. */
function avscFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (current: string) => {
    const entries = readdirSync(current, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && entry.name.endsWith('.avsc')) found.push(path);
    }
  };
  walk(dir);
  return found;
}

function displayPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel) ? rel : path;
}
