/**
 * Where a stream's events sit among `offsets` records when spread evenly, one event per append: event k at
 * floor((k + 0.5) * offsets / events), as bench/read/preloadPartition.ts places them in Kafka, so the Postgres table
 * holds the stream the way the partition does.
 */
export function spreadPlaces(offsets: number, events: number): number[] {
  if (events > offsets) throw new Error(`${events} events cannot be spread over ${offsets} offsets`);
  return Array.from({ length: events }, (_, k) => Math.floor(((k + 0.5) * offsets) / events));
}
