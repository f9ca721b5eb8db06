import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../../test/support/names.js';
import { stack } from '../../test/support/stack.js';
import { SchemaIncompatibleError } from '../errors.js';
import { getCompatibility, listSubjectVersions, registerSchema } from '../registry/subjects.js';
import { nameRegistryFields } from './compatibilityDetail.js';
import { openEventCatalog } from './eventCatalog.js';
import { loadLocalSchemas } from './localSchemas.js';
import { checkSchemas, pushSchemas } from './schemaCheck.js';

/**
 * Schema evolution against the real registry (global rule BACKWARD). Every test uses its own namespace, so its
 * subjects are new and no other test (or earlier run) shares them.
 */

type Field = { name: string; type: unknown; default?: unknown };

const accountFields: Field[] = [
  { name: 'accountId', type: 'string' },
  { name: 'owner', type: 'string' },
  { name: 'amount', type: 'long' },
];

function dirWith(namespace: string, fields: Field[], compatibility?: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'kes-schemas-'));
  mkdirSync(join(dir, 'account'));
  writeFileSync(
    join(dir, 'account', 'Opened.avsc'),
    JSON.stringify({ type: 'record', name: 'Opened', namespace, doc: 'test event', fields }, null, 2),
  );
  if (compatibility) writeFileSync(join(dir, 'compatibility.json'), JSON.stringify(compatibility));
  return dir;
}

const without = (name: string) => accountFields.filter((f) => f.name !== name);
const withType = (name: string, type: string) => accountFields.map((f) => (f.name === name ? { ...f, type } : f));

describe('event schemas against the registry', () => {
  let url: string;
  beforeAll(() => {
    url = stack().schemaRegistryUrl;
  });

  /** A fresh namespace whose `Opened` subject holds `fields` as version 1, under the given file rules. */
  async function registered(fields: Field[] = accountFields, rule?: string) {
    const namespace = uniqueName('t');
    const subject = `${namespace}.Opened`;
    const compatibility = rule ? { [subject]: rule } : undefined;
    const [pushed] = await pushSchemas(url, loadLocalSchemas(dirWith(namespace, fields, compatibility)));
    return { namespace, subject, compatibility, id: pushed?.id as number };
  }

  async function check(namespace: string, fields: Field[], compatibility?: Record<string, string>) {
    const dir = dirWith(namespace, fields, compatibility);
    const [result] = await checkSchemas(url, loadLocalSchemas(dir));
    return { dir, result };
  }

  async function pushError(dir: string): Promise<SchemaIncompatibleError> {
    const error = await pushSchemas(url, loadLocalSchemas(dir)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaIncompatibleError);
    return error as SchemaIncompatibleError;
  }

  it('a new schema is new; pushed it is unchanged at version 1; pushing again adds no version', async () => {
    const namespace = uniqueName('t');
    const dir = dirWith(namespace, accountFields);
    const schemas = loadLocalSchemas(dir);
    expect((await checkSchemas(url, schemas))[0]).toMatchObject({ status: 'new', subject: `${namespace}.Opened` });
    const [first] = await pushSchemas(url, schemas);
    expect(first).toMatchObject({ status: 'new', version: 1, type: 'Opened' });
    expect((await checkSchemas(url, schemas))[0]).toMatchObject({ status: 'unchanged', registeredVersion: 1 });
    const [again] = await pushSchemas(url, schemas);
    expect(again).toMatchObject({ status: 'unchanged', version: 1, id: first?.id });
    expect(await listSubjectVersions(url, `${namespace}.Opened`)).toEqual([1]);
  });

  it('an added optional field (with a default) passes check and push', async () => {
    const { namespace, subject, id } = await registered();
    const v2 = [...accountFields, { name: 'label', type: ['null', 'string'], default: null }];
    const { dir, result } = await check(namespace, v2);
    expect(result).toMatchObject({ status: 'compatible', registeredVersion: 1, compatibility: 'BACKWARD' });
    const [pushed] = await pushSchemas(url, loadLocalSchemas(dir));
    expect(pushed).toMatchObject({ status: 'compatible', version: 2 });
    expect(pushed?.id).not.toBe(id);
    expect(await listSubjectVersions(url, subject)).toEqual([1, 2]);
  });

  it('under BACKWARD (global): removing a required field is accepted, adding one without a default is refused', async () => {
    const { namespace, subject } = await registered();
    const removed = await check(namespace, without('owner'));
    expect(removed.result?.status).toBe('compatible');

    const { namespace: other, subject: otherSubject } = await registered();
    const added = await check(other, [...accountFields, { name: 'branch', type: 'string' }]);
    expect(added.result?.status).toBe('incompatible');
    expect(added.result?.detail).toMatch(/field 'branch': added without a default/);
    const error = await pushError(added.dir);
    expect(error.message).toContain(join(added.dir, 'account', 'Opened.avsc'));
    expect(error.detail).toMatch(/field 'branch'/);
    expect(await listSubjectVersions(url, otherSubject)).toEqual([1]);

    await pushSchemas(url, loadLocalSchemas(removed.dir));
    expect(await listSubjectVersions(url, subject)).toEqual([1, 2]);
  });

  it('a changed type is refused by check and push, naming the file and the field', async () => {
    const { namespace, subject } = await registered();
    const { dir, result } = await check(namespace, withType('amount', 'string'));
    expect(result).toMatchObject({ status: 'incompatible', registeredVersion: 1 });
    expect(result?.detail).toBe("under BACKWARD: field 'amount': type changed from long (version 1) to string");
    const error = await pushError(dir);
    expect(error.subject).toBe(subject);
    expect(error.message).toContain(`${join(dir, 'account', 'Opened.avsc')}: under BACKWARD: field 'amount'`);
    expect(await listSubjectVersions(url, subject)).toEqual([1]);
  });

  it('with FULL from compatibility.json: removing a required field is refused, an optional one is accepted', async () => {
    const { namespace, subject, compatibility } = await registered(accountFields, 'FULL');
    expect(await getCompatibility(url, subject)).toBe('FULL');
    const removed = await check(namespace, without('owner'), compatibility);
    expect(removed.result).toMatchObject({ status: 'incompatible', compatibility: 'FULL' });
    expect(removed.result?.detail).toMatch(
      /under FULL: field 'owner': removed, but version 1 has it without a default/,
    );
    expect((await pushError(removed.dir)).detail).toMatch(/Opened\.avsc: under FULL: field 'owner'/);

    const optional = await check(
      namespace,
      [...accountFields, { name: 'memo', type: ['null', 'string'], default: null }],
      compatibility,
    );
    expect(optional.result?.status).toBe('compatible');
    await pushSchemas(url, loadLocalSchemas(optional.dir));
    expect(await listSubjectVersions(url, subject)).toEqual([1, 2]);
  });

  it('with FORWARD: adding a required field is accepted, removing one is refused', async () => {
    const { namespace, compatibility } = await registered(accountFields, 'FORWARD');
    const added = await check(namespace, [...accountFields, { name: 'branch', type: 'string' }], compatibility);
    expect(added.result?.status).toBe('compatible');
    const removed = await check(namespace, without('amount'), compatibility);
    expect(removed.result?.status).toBe('incompatible');
    expect(removed.result?.detail).toMatch(/field 'amount': removed/);
  });

  it('a rule compatibility.json adds later is judged by check before push applies it; dropping it restores the global rule', async () => {
    const { namespace, subject } = await registered();
    const full = { [subject]: 'FULL' };
    const removed = await check(namespace, without('owner'), full);
    expect(removed.result).toMatchObject({
      status: 'incompatible',
      compatibility: 'FULL',
      registryCompatibility: 'BACKWARD',
    });
    expect(removed.result?.detail).toMatch(
      /under FULL \(from compatibility\.json; the registry has BACKWARD until push\): field 'owner'/,
    );
    await pushError(removed.dir);

    const loose = await check(namespace, withType('amount', 'string'), { [subject]: 'NONE' });
    expect(loose.result).toMatchObject({ status: 'compatible', detail: 'push sets NONE (the registry has BACKWARD)' });
    await pushSchemas(url, loadLocalSchemas(loose.dir));
    expect(await getCompatibility(url, subject)).toBe('NONE');
    expect(await listSubjectVersions(url, subject)).toEqual([1, 2]);

    await pushSchemas(url, loadLocalSchemas(dirWith(namespace, withType('amount', 'string'))));
    expect(await getCompatibility(url, subject)).toBe('BACKWARD');
  });

  it("the registry's own refusal (a 409 on register, which push gets if the subject changed after its check) names the field", async () => {
    const { namespace, subject } = await registered(accountFields, 'FULL');
    const [local] = loadLocalSchemas(dirWith(namespace, [accountFields[0] as Field, { name: 'owner', type: 'int' }]));
    const refusal = await registerSchema(url, subject, local?.schemaText ?? '').catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(SchemaIncompatibleError);
    const { detail } = refusal as SchemaIncompatibleError;
    // As Apicurio 3.3.3 words it: both halves of FULL, each pointing into its reader schema.
    expect(detail).toMatch(/at \/fields\/1\/type/);
    const registeredSchema = { type: 'record', name: 'Opened', namespace, doc: 'test event', fields: accountFields };
    const named = nameRegistryFields(detail, JSON.parse(local?.schemaText ?? ''), registeredSchema);
    expect(named.split('; ').sort()).toEqual([
      "field 'amount': no value in the other version and no default",
      "field 'owner': reader type: INT not compatible with writer type: STRING",
      "field 'owner': reader type: STRING not compatible with writer type: INT",
    ]);
  });

  // change, fields of version 2 (version 1 is accountFields plus `seq: int`), then BACKWARD, FORWARD, FULL.
  const tableV1: Field[] = [...accountFields, { name: 'seq', type: 'int' }];
  const retype = (name: string, type: string) => tableV1.map((f) => (f.name === name ? { ...f, type } : f));
  it.each([
    [
      'add a field with a default',
      [...tableV1, { name: 'memo', type: ['null', 'string'], default: null }],
      'compatible',
      'compatible',
      'compatible',
    ],
    [
      'add a field without a default',
      [...tableV1, { name: 'branch', type: 'string' }],
      'incompatible',
      'compatible',
      'incompatible',
    ],
    [
      'remove a field that has no default',
      tableV1.filter((f) => f.name !== 'owner'),
      'compatible',
      'incompatible',
      'incompatible',
    ],
    ["change a field's type", retype('amount', 'string'), 'incompatible', 'incompatible', 'incompatible'],
    ['widen a type (int to long)', retype('seq', 'long'), 'compatible', 'incompatible', 'incompatible'],
  ] as [string, Field[], string, string, string][])(
    'the table in schemas/README.md: %s is %s under BACKWARD, %s under FORWARD, %s under FULL',
    async (_change, v2, ...expected) => {
      const statuses: string[] = [];
      for (const level of ['BACKWARD', 'FORWARD', 'FULL']) {
        const { namespace, compatibility } = await registered(tableV1, level);
        const { result } = await check(namespace, v2, compatibility);
        statuses.push(result?.status ?? 'missing');
        if (result?.status === 'incompatible') expect(result.detail).toMatch(/field '\w+'/);
      }
      expect(statuses).toEqual(expected);
    },
  );

  it('push registers nothing when one of its schemas is refused', async () => {
    const { namespace } = await registered();
    const dir = dirWith(namespace, withType('owner', 'int'));
    writeFileSync(
      join(dir, 'Other.avsc'),
      JSON.stringify({ type: 'record', name: 'Other', namespace, fields: [{ name: 'a', type: 'string' }] }),
    );
    await pushError(dir);
    expect(await listSubjectVersions(url, `${namespace}.Other`)).toEqual([]);
  });

  it('events encoded under the older version still decode after a compatible change', async () => {
    const namespace = uniqueName('t');
    const v1 = await openEventCatalog({ registryUrl: url, dir: dirWith(namespace, accountFields) });
    const old = v1.encode('Opened', { accountId: 'a-1', owner: 'Ada', amount: 1250 });
    expect(old.readInt32BE(1)).toBe(v1.schemaId('Opened'));

    const v2Fields = [...accountFields, { name: 'label', type: ['null', 'string'], default: null }];
    const v2 = await openEventCatalog({ registryUrl: url, dir: dirWith(namespace, v2Fields) });
    expect(v2.schemaId('Opened')).not.toBe(v1.schemaId('Opened'));
    const fresh = v2.encode('Opened', { accountId: 'a-2', owner: 'Bo', amount: 1, label: 'savings' });

    // A third catalog has never seen v1's id: it fetches that schema from the registry to decode.
    const reader = await openEventCatalog({ registryUrl: url, dir: dirWith(namespace, v2Fields) });
    expect(await reader.decode(old)).toEqual({
      schemaId: v1.schemaId('Opened'),
      data: { accountId: 'a-1', owner: 'Ada', amount: 1250 },
    });
    expect((await reader.decode(fresh)).data).toEqual({ accountId: 'a-2', owner: 'Bo', amount: 1, label: 'savings' });
    expect(reader.validate('Opened', { accountId: 'a', owner: 'o', amount: 1, lable: 'x' })).toMatchObject({
      path: 'lable',
    });
  });

  it('openEventCatalog refuses an incompatible local schema, naming the file and the field', async () => {
    const { namespace, subject } = await registered();
    const dir = dirWith(namespace, withType('accountId', 'int'));
    const error = await openEventCatalog({ registryUrl: url, dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaIncompatibleError);
    expect((error as Error).message).toContain(join(dir, 'account', 'Opened.avsc'));
    expect((error as Error).message).toMatch(/field 'accountId': type changed from string \(version 1\) to int/);
    expect(await listSubjectVersions(url, subject)).toEqual([1]);
  });
});
