import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../pipeline/errors.js';
import type { DecodedEvent } from '../run/decodedEvent.js';
import { checkProjections } from './projectionShape.js';
import { tableProjection } from './tableProjection.js';

const moves = tableProjection({
  name: 'stock-moves',
  description: 'one row per stock movement',
  table: 'stock_moves',
  categories: ['stock'],
  createTable: (t) => `CREATE TABLE IF NOT EXISTS ${t} (stream String, version UInt64, quantity Int64)
    ENGINE = ReplacingMergeTree ORDER BY (stream, version)`,
  row: (e) => (e.type === 'Noted' ? undefined : { quantity: e.data.quantity, stream: 'ignored', version: -1 }),
});

const event = (over: Partial<DecodedEvent>): DecodedEvent => ({
  topic: 'kes.events.stock',
  partition: 0,
  offset: 7,
  stream: 'stock-sku1',
  category: 'stock',
  version: 3,
  eventId: 'e1',
  type: 'StockReceived',
  timeMs: 0,
  dataJson: '{"quantity":5}',
  metadataJson: '{}',
  ...over,
});

describe('tableProjection', () => {
  it("fills stream and version from the event, whatever the row says, and parses the event's data", () => {
    expect(moves.row(event({}))).toEqual({ quantity: 5, stream: 'stock-sku1', version: 3 });
  });

  it('skips events of other categories and events the row function has no row for', () => {
    expect(moves.row(event({ category: 'account', stream: 'account-1' }))).toBeUndefined();
    expect(moves.row(event({ type: 'Noted' }))).toBeUndefined();
  });

  it('versions the table and serves it through a view read with FINAL', () => {
    expect(moves.createStatements('db', 2)[0]).toContain('CREATE TABLE IF NOT EXISTS `db`.`stock_moves_v2`');
    expect(moves.dropStatements('db', 2)).toEqual(['DROP TABLE IF EXISTS `db`.`stock_moves_v2`']);
    expect(moves.views('db', 2)).toEqual([
      { name: 'stock_moves', select: 'SELECT * FROM `db`.`stock_moves_v2` FINAL' },
    ]);
  });

  it('refuses a bad name or table name', () => {
    const spec = { description: '', createTable: () => '', row: () => undefined };
    expect(() => tableProjection({ ...spec, name: 'Stock', table: 't' })).toThrow(ConfigError);
    expect(() => tableProjection({ ...spec, name: 'stock', table: 'a b' })).toThrow(
      'not a valid ClickHouse identifier',
    );
  });
});

describe('checkProjections', () => {
  const problem = (value: unknown) => {
    try {
      checkProjections(value, 'p.js', ['events']);
    } catch (error) {
      return (error as Error).message;
    }
    return undefined;
  };

  it('accepts projections and names the source, entry and field of a bad one', () => {
    expect(problem([moves])).toBeUndefined();
    expect(problem(moves)).toBe('p.js: projections must be an array, got an object');
    expect(problem(['x'])).toBe('p.js: projections[0]: a projection is an object (tableProjection({ … })), got string');
    expect(problem([{ ...moves, row: 1 }])).toBe(
      'p.js: projections[0] (stock-moves): row must be a function, got number',
    );
    expect(problem([{ ...moves, sinkTable: 'a-b' }])).toContain('sinkTable must be a ClickHouse identifier');
    expect(problem([moves, moves])).toBe("p.js: projections[0] and [1] are both named 'stock-moves'");
    expect(problem([{ ...moves, name: 'events' }])).toBe("p.js: projections[0]: the name 'events' is kes's own");
  });
});
