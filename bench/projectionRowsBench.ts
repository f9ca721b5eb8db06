// `npm run build && node dist/bench/projectionRowsBench.js [--events 200000] [--rounds 5]`: what building a sink row
// costs per event, for kes's own `events` projection (the baseline) and for a user projection made with
// tableProjection (which parses the event's data and metadata from JSON for the row function and fills stream and
// version). CPU only: no
// Kafka, no ClickHouse. The best round of each is printed, side by side, in ns per event.
import { eventsProjection } from '../projectors/readModels/eventsProjection.js';
import type { Projection } from '../projectors/readModels/projection.js';
import { tableProjection } from '../projectors/readModels/tableProjection.js';
import type { DecodedEvent } from '../projectors/run/decodedEvent.js';
import { runMain } from './support/run.js';

const flag = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  const value = i < 0 ? fallback : Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name}: expected a positive integer`);
  return value;
};

const stockMoves = tableProjection({
  name: 'stock-moves',
  description: 'the tutorial projection',
  table: 'stock_moves',
  categories: ['stock'],
  createTable: (t) => t,
  row: (e) => ({
    sku: e.data.sku,
    quantity: e.type === 'StockShipped' ? -Number(e.data.quantity) : Number(e.data.quantity),
    order_id: e.type === 'StockShipped' ? e.data.order : '',
    at: new Date(e.timeMs).toISOString().replace('T', ' ').replace('Z', ''),
  }),
});

// kes's own share of a user row: parsing the event's JSON and filling stream and version, with a row of nothing.
const emptyRows = tableProjection({
  name: 'empty',
  description: 'an empty row per event',
  table: 'empty',
  createTable: (t) => t,
  row: () => ({}),
});

function events(n: number, category: string): DecodedEvent[] {
  const start = Date.parse('2026-12-01T00:00:00Z');
  return Array.from({ length: n }, (_, i) => ({
    topic: `kes.events.${category}`,
    partition: i % 12,
    offset: i,
    stream: `${category}-sku-${i % 1000}`,
    category,
    version: Math.floor(i / 1000),
    eventId: `0193b0c2-7f1e-7000-8000-${String(i).padStart(12, '0')}`,
    type: i % 2 === 0 ? 'StockReceived' : 'StockShipped',
    timeMs: start + i * 7,
    dataJson: JSON.stringify({ sku: `sku-${i % 1000}`, quantity: 1 + (i % 50), order: `o-${i}` }),
    metadataJson: '{"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}',
  }));
}

function nsPerEvent(projection: Projection, batch: readonly DecodedEvent[]): number {
  let kept = 0;
  const started = process.hrtime.bigint();
  for (const e of batch) if (projection.row(e) !== undefined) kept++;
  const ns = Number(process.hrtime.bigint() - started);
  if (kept < 0) throw new Error('unreachable');
  return ns / batch.length;
}

runMain('projection rows bench', async () => {
  const n = flag('--events', 200_000);
  const rounds = flag('--rounds', 5);
  const stock = events(n, 'stock');
  const other = events(n, 'account');
  const cases: [string, Projection, DecodedEvent[]][] = [
    ['events (kes, baseline)', eventsProjection, stock],
    ['tableProjection, empty row (kes share)', emptyRows, stock],
    ['tableProjection, the tutorial row', stockMoves, stock],
    ['tableProjection, other category (skipped)', stockMoves, other],
  ];
  const best = new Map<string, number>();
  for (let r = 0; r < rounds; r++) {
    for (const [name, projection, batch] of cases) {
      const ns = nsPerEvent(projection, batch);
      best.set(name, Math.min(best.get(name) ?? Number.POSITIVE_INFINITY, ns));
    }
  }
  process.stdout.write(`${n} events per round, best of ${rounds} rounds, node ${process.version}\n`);
  for (const [name] of cases) {
    const ns = best.get(name) ?? 0;
    process.stdout.write(
      `${name.padEnd(44)} ${ns.toFixed(0).padStart(6)} ns/event  ${(1e9 / ns / 1000).toFixed(0).padStart(6)}k events/s per core\n`,
    );
  }
  return 0;
});
