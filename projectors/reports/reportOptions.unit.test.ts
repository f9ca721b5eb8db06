import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { coreReportCatalog } from './reportCatalog.js';
import { reportParams } from './reportDefinitions.js';
import { ReportOptionError, shown, UnknownReportError } from './reportErrors.js';
import { checkCategory, MAX_TIME_MS, parseLimit, parseOptions, parseTime, timeForms } from './reportOptions.js';
import { prepareReport, typed } from './runReport.js';

const now = Date.parse('2026-01-10T13:00:00.000Z');

function refusal(fn: () => unknown): ReportOptionError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ReportOptionError) return error;
    throw error;
  }
  throw new Error('expected a ReportOptionError');
}

describe('times', () => {
  it.each([
    ['2026-01-31', '2026-01-31T00:00:00.000Z'],
    ['2026-01-31T10:00', '2026-01-31T10:00:00.000Z'],
    ['2026-01-31 10:00:05', '2026-01-31T10:00:05.000Z'],
    ['2026-01-31T10:00:05.1', '2026-01-31T10:00:05.100Z'],
    ['2026-01-31T10:00:05.123456789', '2026-01-31T10:00:05.123Z'],
    ['2026-01-31T10:00Z', '2026-01-31T10:00:00.000Z'],
    ['2026-01-31t10:00z', '2026-01-31T10:00:00.000Z'],
    ['2026-01-31T10:00+02:00', '2026-01-31T08:00:00.000Z'],
    ['2026-01-31T10:00-0530', '2026-01-31T15:30:00.000Z'],
    ['2024-02-29', '2024-02-29T00:00:00.000Z'],
    ['now', '2026-01-10T13:00:00.000Z'],
    ['-30s', '2026-01-10T12:59:30.000Z'],
    ['-15m', '2026-01-10T12:45:00.000Z'],
    ['-2h', '2026-01-10T11:00:00.000Z'],
    ['-7d', '2026-01-03T13:00:00.000Z'],
    ['-1w', '2026-01-03T13:00:00.000Z'],
    [' -2h ', '2026-01-10T11:00:00.000Z'],
  ])('%s is %s (UTC when no zone)', (text, iso) => {
    expect(new Date(parseTime('from', text, now)).toISOString()).toBe(iso);
  });

  it.each([
    '',
    'yesterday',
    '2026-13-01',
    '2026-02-30',
    '2025-02-29',
    '2026-01-31T24:00',
    '2026-01-31T10:60',
    '2026-01-31T10:00:61',
    '2026-01-31T10:00+15:00',
    '2026-01-31Z',
    '26-01-31',
    '2026-1-31',
    '15m',
    '+15m',
    '-15',
    '-15y',
    '-1.5h',
    '1706695200',
    '1969-12-31T23:59:59Z',
    '2106-01-01',
    '-9999999d',
  ])('%j is refused, naming the option and listing the forms', (text) => {
    const error = refusal(() => parseTime('to', text, now));
    expect(error.option).toBe('to');
    expect(error.message).toMatch(/^--to: '.*' (is not a|is outside|has an invalid)/);
    expect(error.message).toContain(`; valid: ${timeForms.join(', ')}`);
    expect(error.message).not.toContain('\n');
  });

  it('any ISO-8601 UTC instant in range round-trips (fast-check)', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date(0), max: new Date(MAX_TIME_MS - 1), noInvalidDate: true }), (date) => {
        const iso = date.toISOString();
        expect(parseTime('from', iso, now)).toBe(date.getTime());
        expect(parseTime('from', iso.slice(0, -1).replace('T', ' '), now)).toBe(date.getTime());
      }),
    );
  });

  it('any text is either a time in range or a one-line ReportOptionError (fast-check)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (text) => {
        try {
          const ms = parseTime('from', text, now);
          expect(ms).toBeGreaterThanOrEqual(0);
          expect(ms).toBeLessThan(MAX_TIME_MS);
        } catch (error) {
          expect(error).toBeInstanceOf(ReportOptionError);
          expect((error as Error).message.split('\n')).toHaveLength(1);
        }
      }),
    );
  });
});

describe('other options', () => {
  it('limit is a positive integer up to the maximum', () => {
    expect(parseLimit('1', 1000)).toBe(1);
    expect(parseLimit('1000', 1000)).toBe(1000);
    for (const bad of ['0', '-1', '1001', '1.5', '1e3', ' ', 'ten', '0x10', '99999999999']) {
      expect(refusal(() => parseLimit(bad, 1000)).message).toBe(
        `--limit: ${shown(bad)} is not an integer from 1 to 1000; valid: 1..1000`,
      );
    }
  });

  it('a category must be a category name and one with events', () => {
    expect(checkCategory('account', ['account', 'order'])).toBe('account');
    expect(refusal(() => checkCategory('shipment', ['account', 'order'])).message).toBe(
      "--category: unknown category 'shipment'; valid: account, order",
    );
    expect(refusal(() => checkCategory('Account', ['account'])).messageFor('http')).toBe(
      "category: 'Account' is not a category name (1 to 100 lowercase letters, digits, _); valid: account",
    );
    expect(refusal(() => checkCategory('x', [])).message).toBe("--category: unknown category 'x'; valid: (none)");
  });

  it('values are shown on one line, escaped and short', () => {
    expect(shown('a\nb\u0000')).toBe("'a\\u000ab\\u0000'");
    expect(shown('x'.repeat(100))).toBe(`'${'x'.repeat(80)}…'`);
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 100 }), (s) => !/[\n\r\u2028\u2029]/.test(shown(s))));
  });

  it('long lists of choices are cut with a count', () => {
    const many = Array.from({ length: 45 }, (_, i) => `c${i}`);
    expect(refusal(() => checkCategory('x', many)).message).toMatch(/, c39 and 5 more$/);
  });
});

describe('parseOptions', () => {
  const spec = (name: string) => {
    const definition = coreReportCatalog.find(name);
    if (!definition) throw new Error(`no report ${name}`);
    return definition.options;
  };

  it('applies defaults: a default window ends at --to when only --to is given', () => {
    expect(parseOptions('event-rate', spec('event-rate'), {}, now)).toEqual({ from: now - 3_600_000 });
    const to = Date.parse('2026-01-01T00:00:00Z');
    expect(parseOptions('event-rate', spec('event-rate'), { to: '2026-01-01' }, now)).toEqual({
      from: to - 3_600_000,
      to,
    });
    expect(parseOptions('top-streams', spec('top-streams'), {}, now)).toEqual({ limit: 20, by: 'size' });
    expect(parseOptions('categories', spec('categories'), {}, now)).toEqual({});
  });

  it('refuses from >= to, options a report does not take, repeated options, bad choices', () => {
    expect(
      refusal(() => parseOptions('categories', spec('categories'), { from: '2026-01-02', to: '2026-01-01' }, now))
        .message,
    ).toBe(
      '--from: 2026-01-02T00:00:00.000Z is not before the end of the range (to) 2026-01-01T00:00:00.000Z; valid: a time before 2026-01-01T00:00:00.000Z',
    );
    expect(refusal(() => parseOptions('categories', spec('categories'), { from: 'now', to: 'now' }, now)).option).toBe(
      'from',
    );
    expect(refusal(() => parseOptions('categories', spec('categories'), { limit: '5' }, now)).message).toBe(
      '--limit: not an option of report categories; valid: --from, --to',
    );
    expect(refusal(() => parseOptions('event-rate', spec('event-rate'), { category: ['a', 'b'] }, now)).message).toBe(
      '--category: given more than once; valid: one value',
    );
    expect(refusal(() => parseOptions('top-streams', spec('top-streams'), { by: 'size; DROP' }, now)).message).toBe(
      "--by: unknown by 'size; DROP'; valid: size, recent",
    );
  });

  it('keeps a category for the check against the read models, and binds it as a parameter only', () => {
    const options = parseOptions('event-rate', spec('event-rate'), { category: "x' OR 1=1 --" }, now);
    expect(options.category).toBe("x' OR 1=1 --");
    for (const report of coreReportCatalog.reports) {
      const sql = report.sql('kes', { ...options, limit: 5 });
      expect(sql).not.toContain('OR 1=1');
      expect(sql).not.toMatch(/'[^']*x'/);
    }
    expect(reportParams({ ...options, limit: 5 })).toEqual({
      from: new Date(now - 3_600_000),
      category: "x' OR 1=1 --",
      limit: 5,
    });
  });
});

describe('reports', () => {
  it('an unknown report lists the valid ones', () => {
    const error = refusal(() => prepareReport(coreReportCatalog, 'nope', {}));
    expect(error).toBeInstanceOf(UnknownReportError);
    expect(error.message).toBe(`report: unknown report 'nope'; valid: ${coreReportCatalog.names.join(', ')}`);
  });

  it('has the reports users ask for first, each with a description and columns', () => {
    expect(coreReportCatalog.names).toEqual([
      'event-rate',
      'category-activity',
      'categories',
      'top-streams',
      'event-types',
    ]);
    for (const report of coreReportCatalog.reports) {
      expect(report.description.length).toBeGreaterThan(10);
      expect(report.columns.length).toBeGreaterThan(1);
      expect(report.sql('kes', {})).toContain('`kes`.');
      expect(report.sql('kes', {})).not.toMatch(/_v\d/);
    }
  });

  it('types values: counts as numbers, ClickHouse UTC times as ISO-8601', () => {
    expect(typed('count', '18446744')).toBe(18446744);
    expect(typed('count', 7)).toBe(7);
    expect(typed('minute', '2026-01-10 10:01:00')).toBe('2026-01-10T10:01:00.000Z');
    expect(typed('time', '2026-01-10 10:01:00.5')).toBe('2026-01-10T10:01:00.500Z');
    expect(typed('text', 'a')).toBe('a');
    expect(typed('time', null)).toBeNull();
    expect(() => typed('time', '10:01')).toThrow(/not a ClickHouse UTC time/);
  });
});
