import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SchemaFileError } from '../errors.js';
import { loadLocalSchemas } from './localSchemas.js';

function schemaDir(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'kes-schemas-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  return dir;
}

const record = (name: string, namespace = 'kes.test', fields: unknown[] = [{ name: 'id', type: 'string' }]) => ({
  type: 'record',
  name,
  namespace,
  fields,
});

function loadError(dir: string): SchemaFileError {
  try {
    loadLocalSchemas(dir);
  } catch (error) {
    expect(error).toBeInstanceOf(SchemaFileError);
    return error as SchemaFileError;
  }
  throw new Error('expected loadLocalSchemas to fail');
}

describe('loadLocalSchemas', () => {
  it('loads records at any depth: type = record name, subject = full name, compact text, rules from compatibility.json', () => {
    const dir = schemaDir({
      'a/Opened.avsc': record('Opened'),
      'a/deeper/Closed.avsc': record('Closed', 'other.ns'),
      'Plain.avsc': { type: 'record', name: 'Plain', fields: [] },
      'notes.txt': 'ignored',
      'compatibility.json': { 'kes.test.Opened': 'FULL' },
    });
    const schemas = loadLocalSchemas(dir);
    expect(schemas.map((s) => [s.type, s.subject, s.compatibility])).toEqual([
      ['Plain', 'Plain', undefined],
      ['Opened', 'kes.test.Opened', 'FULL'],
      ['Closed', 'other.ns.Closed', undefined],
    ]);
    const opened = schemas.find((s) => s.type === 'Opened');
    expect(opened?.file).toBe(join(dir, 'a', 'Opened.avsc'));
    expect(JSON.parse(opened?.schemaText ?? '')).toEqual(record('Opened'));
    expect(opened?.schemaText).not.toMatch(/\n/);
    expect(opened?.avroType.name).toBe('kes.test.Opened');
  });

  it('keeps attributes avsc would drop (logicalType, doc) in the text it registers', () => {
    const dir = schemaDir({
      'At.avsc': record('At', 'kes.test', [{ name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } }]),
    });
    expect(loadLocalSchemas(dir)[0]?.schemaText).toContain('"logicalType":"timestamp-millis"');
  });

  it('shows files under the working directory relative to it', () => {
    const schemas = loadLocalSchemas(join(process.cwd(), 'schemas'));
    expect(schemas.find((s) => s.type === 'AccountOpened')?.file).toBe(
      join('schemas', 'account', 'AccountOpened.avsc'),
    );
  });

  it('loads the example domain: eleven event types in kes.example', () => {
    const schemas = loadLocalSchemas(join(process.cwd(), 'schemas'));
    expect(schemas.map((s) => s.type).sort()).toEqual([
      'AccountClosed',
      'AccountOpened',
      'DebitSettled',
      'MoneyDeposited',
      'MoneyWithdrawn',
      'TransferCompleted',
      'TransferCredited',
      'TransferDebited',
      'TransferFailed',
      'TransferRequested',
      'TransferStepRefused',
    ]);
    for (const schema of schemas) expect(schema.subject).toBe(`kes.example.${schema.type}`);
  });

  it('refuses a missing directory, naming it', () => {
    const missing = join(tmpdir(), 'kes-no-such-schemas-dir');
    expect(loadError(missing).message).toContain('kes-no-such-schemas-dir');
  });

  it('refuses a file that is not JSON, naming the file', () => {
    const dir = schemaDir({ 'x/Broken.avsc': '{ "type": "record", ' });
    const error = loadError(dir);
    expect(error.file).toBe(join(dir, 'x', 'Broken.avsc'));
    expect(error.message).toMatch(/Broken\.avsc: not JSON/);
  });

  it("refuses JSON that is not valid Avro, with avsc's reason", () => {
    const dir = schemaDir({ 'Bad.avsc': record('Bad', 'kes.test', [{ name: 'a', type: 'strng' }]) });
    expect(loadError(dir).message).toMatch(/Bad\.avsc: not a valid Avro schema: undefined type name: kes\.test\.strng/);
  });

  it('refuses a schema that is not a record', () => {
    const dir = schemaDir({ 'Color.avsc': { type: 'enum', name: 'Color', symbols: ['RED'] } });
    expect(loadError(dir).message).toMatch(/Color\.avsc: an event schema must be an Avro record, this is enum/);
  });

  it('refuses a file named other than its record', () => {
    const dir = schemaDir({ 'Wrong.avsc': record('Right') });
    expect(loadError(dir).message).toMatch(
      /Wrong\.avsc: declares record 'Right', so the file must be named Right\.avsc/,
    );
  });

  it('refuses two files declaring the same event type (even in other namespaces)', () => {
    const dir = schemaDir({ 'a/Same.avsc': record('Same', 'one'), 'b/Same.avsc': record('Same', 'two') });
    const error = loadError(dir);
    expect(error.file).toBe(join(dir, 'b', 'Same.avsc'));
    expect(error.message).toContain(`which ${join(dir, 'a', 'Same.avsc')} declares too`);
  });

  it('refuses a compatibility.json that is not JSON, names an unknown subject or an unknown level', () => {
    const notJson = loadError(schemaDir({ 'A.avsc': record('A'), 'compatibility.json': '{ nope' }));
    expect(notJson.message).toMatch(/compatibility\.json: not JSON/);
    const unknownSubject = loadError(schemaDir({ 'A.avsc': record('A'), 'compatibility.json': { A: 'FULL' } }));
    expect(unknownSubject.message).toMatch(/compatibility\.json: unknown subject 'A'; .*kes\.test\.A/);
    const unknownLevel = loadError(
      schemaDir({ 'A.avsc': record('A'), 'compatibility.json': { 'kes.test.A': 'STRICT' } }),
    );
    expect(unknownLevel.message).toMatch(/compatibility\.json: kes\.test\.A: unknown compatibility level "STRICT"/);
    const notObject = loadError(schemaDir({ 'A.avsc': record('A'), 'compatibility.json': ['FULL'] }));
    expect(notObject.message).toMatch(/compatibility\.json: expected an object/);
  });
});
