/**
 * Query parameters as ClickHouse's HTTP interface receives them (`param_<name>=<text>`), turned into values for
 * chdb's bind API, which formats them back into the text ClickHouse binds. The values are never spliced into the
 * SQL: this only undoes the HTTP text encoding so that chdb's own encoding reproduces the same value.
 *
 * The HTTP text is what @clickhouse/client's formatQueryParams writes (and what a server parses): a top-level
 * scalar in TSV-escaped form (`it\'s`, `a\tb`, `\N` for NULL), a composite (Array, Tuple, Map) as a literal whose
 * strings are quoted (`['it\'s','b']`). chdb re-escapes a top-level string itself and passes composites through
 * its literal serializer, so a scalar is unescaped to its raw text and a composite is parsed into JS arrays, maps
 * and tuples. Text without a backslash needs neither and is passed as it came.
 */

/** A bad parameter, reported as ClickHouse would: code 457 BAD_QUERY_PARAMETER. */
export class BadQueryParameterError extends Error {
  readonly clickhouseCode = 457;
  constructor(name: string, detail: string) {
    super(`Code: 457. DB::Exception: Value of query parameter '${name}' ${detail}. (BAD_QUERY_PARAMETER)`);
    this.name = 'BadQueryParameterError';
  }
}

/** chdb formats an object by this shape (constructor name `TupleParam`, members in `values`) as `(a,b,c)`. */
export class TupleParam {
  constructor(readonly values: unknown[]) {}
}

const PLACEHOLDER = /\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([^{}]+?)\s*\}/g;
const COMPOSITE = /^(Array|Tuple|Map|Nested)\s*\(/i;
const WRAPPER = /^(Nullable|LowCardinality)\s*\((.*)\)$/is;

/** The declared type of each `{name:Type}` placeholder in the statement. */
export function placeholderTypes(sql: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const match of sql.matchAll(PLACEHOLDER)) {
    const [, name, type] = match;
    if (name !== undefined && type !== undefined && !types.has(name)) types.set(name, type);
  }
  return types;
}

function isComposite(type: string): boolean {
  let inner = type.trim();
  for (let wrapped = WRAPPER.exec(inner); wrapped?.[2] !== undefined; wrapped = WRAPPER.exec(inner)) {
    inner = wrapped[2].trim();
  }
  return COMPOSITE.test(inner);
}

/**
 * The chdb bind values for the statement's placeholders. Parameters the statement does not use are dropped, as a
 * server ignores them; a placeholder without a value is left to the engine to report (456 UNKNOWN_QUERY_PARAMETER).
 */
export function bindValues(sql: string, raw: ReadonlyMap<string, string>): Record<string, unknown> {
  const types = placeholderTypes(sql);
  const values: Record<string, unknown> = {};
  for (const [name, text] of raw) {
    const type = types.get(name);
    if (type === undefined) continue;
    values[name] = decodeParam(name, text, type);
  }
  return values;
}

export function decodeParam(name: string, text: string, type: string): unknown {
  if (text === '\\N') return null;
  if (!text.includes('\\')) return text;
  if (isComposite(type)) return new LiteralParser(name, text).parseWhole();
  return unescapeText(name, text);
}

const SIMPLE_ESCAPES: Record<string, number> = {
  a: 0x07,
  b: 0x08,
  e: 0x1b,
  f: 0x0c,
  n: 0x0a,
  r: 0x0d,
  t: 0x09,
  v: 0x0b,
  '0': 0x00,
  '\\': 0x5c,
  "'": 0x27,
  '"': 0x22,
  '`': 0x60,
  '/': 0x2f,
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Undoes ClickHouse's escaping (as `readEscapedString` reads it) of `text` from `start` to `end`. */
function unescapeText(name: string, text: string, start = 0, end = text.length): string {
  const bytes: number[] = [];
  let plainFrom = start;
  const flushPlain = (to: number) => {
    if (to > plainFrom) for (const b of Buffer.from(text.slice(plainFrom, to), 'utf8')) bytes.push(b);
  };
  let i = start;
  while (i < end) {
    if (text[i] !== '\\') {
      i++;
      continue;
    }
    flushPlain(i);
    const next = text[i + 1];
    if (next === undefined || i + 1 >= end) throw new BadQueryParameterError(name, 'ends with a lone backslash');
    if (next === 'x' || next === 'X') {
      const hex = text.slice(i + 2, i + 4);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw new BadQueryParameterError(name, `has a bad escape \\x${hex}`);
      bytes.push(Number.parseInt(hex, 16));
      i += 4;
    } else if (next === 'N') {
      // Inside a value \N reads as nothing (only a whole value \N is NULL).
      i += 2;
    } else {
      const simple = SIMPLE_ESCAPES[next];
      if (simple !== undefined) {
        bytes.push(simple);
      } else {
        // ClickHouse keeps the backslash of an unknown escape (`100\%` stays `100\%`, for LIKE patterns).
        bytes.push(0x5c);
        for (const b of Buffer.from(next, 'utf8')) bytes.push(b);
      }
      i += 2;
    }
    plainFrom = i;
  }
  flushPlain(end);
  try {
    return utf8.decode(Uint8Array.from(bytes));
  } catch {
    throw new BadQueryParameterError(name, 'is not valid UTF-8 once unescaped');
  }
}

/** Parses the literal form of a composite value: [..], (..), {k:v,..}, 'quoted', numbers, NULL, true/false. */
class LiteralParser {
  private pos = 0;

  constructor(
    private readonly name: string,
    private readonly text: string,
  ) {}

  parseWhole(): unknown {
    const value = this.value();
    this.skipSpace();
    if (this.pos !== this.text.length) this.fail(`has unexpected text at offset ${this.pos}`);
    return value;
  }

  private fail(detail: string): never {
    throw new BadQueryParameterError(this.name, detail);
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos] ?? '')) this.pos++;
  }

  private value(): unknown {
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === undefined) return this.fail('ends too early');
    if (c === "'") return this.quoted();
    if (c === '[') return this.sequence('[', ']');
    if (c === '(') return new TupleParam(this.sequence('(', ')'));
    if (c === '{') return this.map();
    return this.bare();
  }

  private sequence(open: string, close: string): unknown[] {
    this.pos++; // open
    const items: unknown[] = [];
    this.skipSpace();
    if (this.text[this.pos] === close) {
      this.pos++;
      return items;
    }
    for (;;) {
      items.push(this.value());
      this.skipSpace();
      const c = this.text[this.pos++];
      if (c === close) return items;
      if (c !== ',') this.fail(`expected ',' or '${close}' at offset ${this.pos - 1} after '${open}'`);
    }
  }

  private map(): Map<unknown, unknown> {
    this.pos++; // {
    const entries = new Map<unknown, unknown>();
    this.skipSpace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return entries;
    }
    for (;;) {
      const key = this.value();
      this.skipSpace();
      if (this.text[this.pos++] !== ':') this.fail(`expected ':' at offset ${this.pos - 1}`);
      entries.set(key, this.value());
      this.skipSpace();
      const c = this.text[this.pos++];
      if (c === '}') return entries;
      if (c !== ',') this.fail(`expected ',' or '}' at offset ${this.pos - 1}`);
    }
  }

  private quoted(): string {
    const start = ++this.pos;
    let out = '';
    let from = start;
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if (c === '\\') {
        this.pos += 2;
        continue;
      }
      if (c === "'") {
        if (this.text[this.pos + 1] === "'") {
          // '' inside quotes is one quote
          out += unescapeText(this.name, this.text, from, this.pos + 1);
          this.pos += 2;
          from = this.pos;
          continue;
        }
        out += unescapeText(this.name, this.text, from, this.pos);
        this.pos++;
        return out;
      }
      this.pos++;
    }
    return this.fail('has an unterminated quoted string');
  }

  private bare(): unknown {
    const start = this.pos;
    while (this.pos < this.text.length && !/[\s,:\])}]/.test(this.text[this.pos] ?? '')) this.pos++;
    const token = this.text.slice(start, this.pos);
    if (token === '') this.fail(`has an empty element at offset ${start}`);
    if (/^null$/i.test(token)) return null;
    if (/^true$/i.test(token)) return true;
    if (/^false$/i.test(token)) return false;
    if (/^[-+]?\d+$/.test(token)) return BigInt(token);
    if (/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(token)) {
      const digits = token
        .replace(/^[-+]/, '')
        .replace(/e.*$/i, '')
        .replace('.', '')
        .replace(/^0+/, '')
        .replace(/0+$/, '');
      // More digits than a double keeps would change the value (a Decimal): say so rather than round.
      if (digits.length > 15) this.fail(`has a number with more than 15 significant digits (${token})`);
      return Number(token);
    }
    return this.fail(`has an element the facade cannot bind: ${token}`);
  }
}
