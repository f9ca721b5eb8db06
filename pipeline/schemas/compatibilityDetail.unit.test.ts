import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { explainIncompatibility, nameRegistryFields } from './compatibilityDetail.js';

const schema = (fields: unknown[]) => ({ type: 'record', name: 'Foo', namespace: 'kes.test', fields });
const base = schema([
  { name: 'x', type: 'string' },
  { name: 'a', type: 'string' },
  { name: 'n', type: 'int' },
]);
const type = (s: unknown) => avro.Type.forSchema(s as avro.Schema);
const v1 = [{ version: 1, type: type(base) }];

describe('explainIncompatibility (local reasons, since the registry gives none on a compatibility check)', () => {
  it('names an added field without a default under BACKWARD, and accepts one with a default', () => {
    const added = type(schema([...base.fields, { name: 'b', type: 'int' }]));
    expect(explainIncompatibility(added, v1, 'BACKWARD')).toEqual([
      "field 'b': added without a default, so events written with version 1 cannot be read",
    ]);
    const optional = type(schema([...base.fields, { name: 'b', type: ['null', 'int'], default: null }]));
    expect(explainIncompatibility(optional, v1, 'FULL')).toEqual([]);
  });

  it('allows a removed field under BACKWARD and names it under FORWARD and FULL', () => {
    const removed = type(schema(base.fields.slice(0, 2)));
    expect(explainIncompatibility(removed, v1, 'BACKWARD')).toEqual([]);
    const reason =
      "field 'n': removed, but version 1 has it without a default, so readers on version 1 cannot read new events";
    expect(explainIncompatibility(removed, v1, 'FORWARD')).toEqual([reason]);
    expect(explainIncompatibility(removed, v1, 'FULL')).toEqual([reason]);
    expect(explainIncompatibility(removed, v1, 'NONE')).toEqual([]);
  });

  it('names a changed type once, however many directions refuse it', () => {
    const changed = type(schema([base.fields[0], { name: 'a', type: 'long' }, base.fields[2]]));
    expect(explainIncompatibility(changed, v1, 'FULL')).toEqual([
      "field 'a': type changed from string (version 1) to long",
    ]);
    const promoted = type(schema([base.fields[0], base.fields[1], { name: 'n', type: 'long' }]));
    expect(explainIncompatibility(promoted, v1, 'BACKWARD')).toEqual([]);
    expect(explainIncompatibility(promoted, v1, 'FORWARD')).toEqual([
      "field 'n': type changed from int (version 1) to long",
    ]);
  });

  it('follows nested records and compares every version only under *_TRANSITIVE', () => {
    const nested = (inner: unknown[]) =>
      schema([{ name: 'addr', type: { type: 'record', name: 'Addr', fields: inner } }]);
    const versions = [
      { version: 1, type: type(nested([{ name: 'city', type: 'string' }])) },
      {
        version: 2,
        type: type(
          nested([
            { name: 'city', type: 'string' },
            { name: 'zip', type: ['null', 'string'], default: null },
          ]),
        ),
      },
    ];
    const local = type(
      nested([
        { name: 'city', type: 'int' },
        { name: 'zip', type: ['null', 'string'], default: null },
      ]),
    );
    expect(explainIncompatibility(local, versions, 'BACKWARD')).toEqual([
      "field 'addr.city': type changed from string (version 2) to int",
    ]);
    expect(explainIncompatibility(local, versions, 'BACKWARD_TRANSITIVE')).toEqual([
      "field 'addr.city': type changed from string (version 2) to int",
      "field 'addr.city': type changed from string (version 1) to int",
    ]);
  });
});

describe("nameRegistryFields (Apicurio's refusal messages, as it sent them)", () => {
  it('names the field of a changed type', () => {
    const local = schema([base.fields[0], { name: 'a', type: 'int' }, base.fields[2]]);
    expect(
      nameRegistryFields('reader type: INT not compatible with writer type: STRING at /fields/1/type', local, base),
    ).toBe("field 'a': reader type: INT not compatible with writer type: STRING");
  });

  it('picks the reader schema by the reader type when the pointer means different fields in the two', () => {
    // BACKWARD: the pointer is into the local schema (reader); FORWARD: into the registered one.
    const reordered = schema([base.fields[0], base.fields[2], { name: 'a', type: 'long' }]);
    const backward = 'reader type: LONG not compatible with writer type: STRING at /fields/2/type';
    expect(nameRegistryFields(backward, reordered, base)).toBe(
      "field 'a': reader type: LONG not compatible with writer type: STRING",
    );
    const full = `${backward}, reader type: STRING not compatible with writer type: LONG at /fields/1/type`;
    expect(nameRegistryFields(full, reordered, base)).toBe(
      "field 'a': reader type: LONG not compatible with writer type: STRING; field 'a': reader type: STRING not compatible with writer type: LONG",
    );
  });

  it('explains a missing field without a default', () => {
    const added = schema([...base.fields, { name: 'b', type: 'int' }]);
    expect(nameRegistryFields('b at /fields/3', added, base)).toBe(
      "field 'b': no value in the other version and no default",
    );
  });

  it('names nested fields, and leaves text it cannot place alone', () => {
    const nested = schema([
      { name: 'addr', type: { type: 'record', name: 'Addr', fields: [{ name: 'city', type: 'int' }] } },
    ]);
    expect(
      nameRegistryFields(
        'reader type: INT not compatible with writer type: STRING at /fields/0/type/fields/0/type',
        nested,
      ),
    ).toBe("field 'addr.city': reader type: INT not compatible with writer type: STRING");
    expect(nameRegistryFields('something else entirely', nested)).toBe('something else entirely');
  });
});
