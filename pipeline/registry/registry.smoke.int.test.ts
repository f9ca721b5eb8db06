import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../../test/support/names.js';
import { stack } from '../../test/support/stack.js';
import { SchemaIncompatibleError } from '../errors.js';
import { createRegistry } from './registryClient.js';
import { checkCompatibility, registerSchema, setSubjectCompatibility } from './subjects.js';

const v1 = {
  type: 'record',
  name: 'AccountOpened',
  namespace: 'kes.smoke',
  fields: [
    { name: 'accountId', type: 'string' },
    { name: 'currency', type: 'string' },
  ],
};
const withOptionalField = { ...v1, fields: [...v1.fields, { name: 'label', type: ['null', 'string'], default: null }] };
const withNewRequiredField = { ...v1, fields: [...v1.fields, { name: 'owner', type: 'string' }] };
const withChangedType = { ...v1, fields: [{ name: 'accountId', type: 'long' }, v1.fields[1]] };

describe('schema registry smoke (Confluent API, Avro)', () => {
  let url: string;
  let registry: SchemaRegistry;

  beforeAll(() => {
    url = stack().schemaRegistryUrl;
    registry = createRegistry({ SCHEMA_REGISTRY_URL: url });
  });

  it('has BACKWARD as its global compatibility (set by the stack at start)', async () => {
    const response = await fetch(`${url}/config`);
    expect(await response.json()).toMatchObject({ compatibilityLevel: 'BACKWARD' });
  });

  it('registers a schema, encodes in the Confluent wire format and decodes', async () => {
    const subject = uniqueName('smoke-value');
    const { id } = await registerSchema(url, subject, JSON.stringify(v1));
    const record = { accountId: 'acc-1', currency: 'EUR' };
    const encoded = await registry.encode(id, record);
    // Magic byte 0, then the 4-byte big-endian schema id, then the Avro body.
    expect(encoded[0]).toBe(0);
    expect(encoded.readInt32BE(1)).toBe(id);
    expect(await registry.decode(encoded)).toEqual(record);
  });

  it('accepts an added optional field, and old records still decode after the change', async () => {
    const subject = uniqueName('smoke-value');
    const first = await registerSchema(url, subject, JSON.stringify(v1));
    const old = await registry.encode(first.id, { accountId: 'acc-2', currency: 'USD' });
    const second = await registerSchema(url, subject, JSON.stringify(withOptionalField));
    expect(second.id).not.toBe(first.id);
    expect(await registry.decode(old)).toEqual({ accountId: 'acc-2', currency: 'USD' });
    const fresh = await registry.encode(second.id, { accountId: 'acc-3', currency: 'USD', label: 'savings' });
    expect(await registry.decode(fresh)).toEqual({ accountId: 'acc-3', currency: 'USD', label: 'savings' });
  });

  it('refuses a BACKWARD-incompatible version and names the offending field', async () => {
    const subject = uniqueName('smoke-value');
    await registerSchema(url, subject, JSON.stringify(v1));
    const newRequired = registerSchema(url, subject, JSON.stringify(withNewRequiredField));
    await expect(newRequired).rejects.toBeInstanceOf(SchemaIncompatibleError);
    const changed = await registerSchema(url, subject, JSON.stringify(withChangedType)).catch((e: unknown) => e);
    expect(changed).toBeInstanceOf(SchemaIncompatibleError);
    expect((changed as SchemaIncompatibleError).detail).toMatch(/fields\/0/);
    expect(await checkCompatibility(url, subject, JSON.stringify(withChangedType))).toMatchObject({
      compatible: false,
    });
    expect(await checkCompatibility(url, subject, JSON.stringify(withOptionalField))).toEqual({ compatible: true });
  });

  it("honours a subject's own rule over the global one", async () => {
    const subject = uniqueName('smoke-value');
    await registerSchema(url, subject, JSON.stringify(v1));
    await setSubjectCompatibility(url, subject, 'NONE');
    await expect(registerSchema(url, subject, JSON.stringify(withChangedType))).resolves.toMatchObject({ subject });
  });

  it("the library's register() works on a fresh subject (its first-registration path)", async () => {
    const subject = uniqueName('smoke-value');
    const { id } = await registry.register({ type: 'AVRO' as never, schema: JSON.stringify(v1) }, { subject });
    expect(await registry.decode(await registry.encode(id, { accountId: 'a', currency: 'EUR' }))).toEqual({
      accountId: 'a',
      currency: 'EUR',
    });
  });
});
