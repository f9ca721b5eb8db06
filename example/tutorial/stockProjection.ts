// Steps 4 and 5 of docs/tutorial.md: a projection and a report. Compiled, this file is what
// `kes project --projections` and `kes report --projections` load.
import { type ReportDefinition, tableProjection } from 'kes';

export const projections = [
  tableProjection({
    name: 'stock-moves',
    description: 'one row per stock movement: + received, - shipped',
    table: 'stock_moves',
    categories: ['stock'],
    // The rule kes checks before it writes a row: a ReplacingMergeTree ordered by a key holding stream and
    // version, so that a batch projected twice (after a crash or a rebalance) still counts once.
    createTable: (table) => `CREATE TABLE IF NOT EXISTS ${table} (
        stream String,
        version UInt64,
        sku String,
        quantity Int64,
        order_id String,
        at DateTime64(3, 'UTC')
      ) ENGINE = ReplacingMergeTree ORDER BY (stream, version)`,
    // kes fills stream and version; the rest comes from the event alone.
    row: (event) => ({
      sku: event.data.sku,
      quantity: event.type === 'StockShipped' ? -Number(event.data.quantity) : Number(event.data.quantity),
      order_id: event.type === 'StockShipped' ? event.data.order : '',
      at: new Date(event.timeMs).toISOString().replace('T', ' ').replace('Z', ''),
    }),
  }),
];

export const reports: ReportDefinition[] = [
  {
    name: 'stock-on-hand',
    description: 'units on hand per SKU, from the stock_moves read model',
    options: [],
    columns: [
      { name: 'sku', kind: 'text' },
      { name: 'on_hand', kind: 'count' },
      { name: 'moves', kind: 'count' },
    ],
    // `stock_moves` is the serving view (read with FINAL): exact, whatever the background merges have done.
    sql: (database) =>
      `SELECT sku, sum(quantity) AS on_hand, count() AS moves FROM \`${database}\`.stock_moves GROUP BY sku ORDER BY sku`,
  },
];
