/** Where a record is in Kafka, and how positions are compared, matched and shown. */
export interface Position {
  topic: string;
  partition: number;
  offset: number;
}

export function formatPosition(p: Position): string {
  return `${p.topic}[${p.partition}]@${p.offset}`;
}

export function compareEvents(a: Position, b: Position): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  if (a.partition !== b.partition) return a.partition - b.partition;
  return a.offset - b.offset;
}

/** Just the position of a record (a violation keeps no other field of it). */
export function positionOf(p: Position): Position {
  return { topic: p.topic, partition: p.partition, offset: p.offset };
}

export function samePosition(a: Position, b: Position): boolean {
  return a.topic === b.topic && a.partition === b.partition && a.offset === b.offset;
}
