/** Where an event is in the log: its topic, partition and offset. Handed to every handler with the event. */
export interface Position {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/**
 * Where a subscription's group starts on a partition it has never committed an offset for:
 *   'start'      the first offset still in the partition
 *   'end'        the partition's end when the group first takes the partition (events appended later are delivered)
 *   positions    for each listed partition, the first offset to deliver (inclusive: pass a handler's position to
 *                have that event again, its offset + 1 to resume after it); partitions not listed start at 'start'
 */
export type StartFrom = 'start' | 'end' | readonly Position[];
