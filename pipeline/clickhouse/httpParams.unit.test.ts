import { describe, expect, it } from 'vitest';
import { BadQueryParameterError, bindValues, decodeParam, placeholderTypes, TupleParam } from './httpParams.js';

describe('placeholderTypes', () => {
  it('finds each {name:Type}, nested types included, and ignores map literals and braces in strings', () => {
    const types = placeholderTypes(
      "SELECT {a:String}, { b : Map(String, Array(Nullable(UInt8))) }, {'k':1}, {a:UInt8} FROM {t:Identifier}",
    );
    expect([...types]).toEqual([
      ['a', 'String'],
      ['b', 'Map(String, Array(Nullable(UInt8)))'],
      ['t', 'Identifier'],
    ]);
  });
});

describe('decodeParam', () => {
  it('passes text without a backslash through unchanged, whatever the type', () => {
    expect(decodeParam('p', "it's plain", 'String')).toBe("it's plain");
    expect(decodeParam('p', "['a','b']", 'Array(String)')).toBe("['a','b']");
    expect(decodeParam('p', '42', 'UInt64')).toBe('42');
  });

  it('reads \\N alone as NULL', () => {
    expect(decodeParam('p', '\\N', 'Nullable(String)')).toBeNull();
  });

  it('unescapes a scalar as ClickHouse reads escaped text', () => {
    expect(decodeParam('p', "it\\'s \\\\ a\\tb\\nc\\r\\0", 'String')).toBe("it's \\ a\tb\nc\r\0");
    expect(decodeParam('p', '\\x41\\xc3\\xa9', 'String')).toBe('Aé');
    // An unknown escape keeps its backslash (LIKE patterns), \N inside a value reads as nothing.
    expect(decodeParam('p', '100\\% a\\Nb', 'String')).toBe('100\\% ab');
  });

  it('parses composites into arrays, maps and tuples of exact values', () => {
    expect(decodeParam('p', "['it\\'s','b\\\\s','t\\t',NULL]", 'Array(Nullable(String))')).toEqual([
      "it's",
      'b\\s',
      't\t',
      null,
    ]);
    expect(decodeParam('p', "{'k\\'1':[18446744073709551615,-1],'k2':[]}", 'Map(String, Array(Int128))')).toEqual(
      new Map<unknown, unknown>([
        ["k'1", [18446744073709551615n, -1n]],
        ['k2', []],
      ]),
    );
    const tuple = decodeParam('p', "('a\\'b',7,TRUE,1.5)", 'Tuple(String, UInt8, Bool, Float64)');
    expect(tuple).toBeInstanceOf(TupleParam);
    expect((tuple as TupleParam).values).toEqual(["a'b", 7n, true, 1.5]);
    expect(decodeParam('p', "['a''b\\\\']", 'LowCardinality(Array(String))')).toEqual(["a'b\\"]);
  });

  it('refuses what it cannot bind exactly, naming the parameter (code 457)', () => {
    const cases: [string, string][] = [
      ['ends\\', 'String'],
      ['\\xZZ', 'String'],
      ['\\xff', 'String'],
      ["['a\\'", 'Array(String)'],
      ["['a\\'b' 'c']", 'Array(String)'],
      ['[1.2345678901234567891,\\\\]', 'Array(Decimal(38, 19))'],
    ];
    for (const [text, type] of cases) {
      expect(() => decodeParam('p', text, type)).toThrow(BadQueryParameterError);
      expect(() => decodeParam('p', text, type)).toThrow(/^Code: 457\. DB::Exception: Value of query parameter 'p' /);
    }
  });
});

describe('bindValues', () => {
  it('keeps the parameters the statement uses and drops the others', () => {
    const values = bindValues(
      'SELECT {a:String}, {b:Array(String)}',
      new Map([
        ['a', 'x\\ty'],
        ['b', "['\\'']"],
        ['unused', 'z'],
      ]),
    );
    expect(values).toEqual({ a: 'x\ty', b: ["'"] });
  });
});
