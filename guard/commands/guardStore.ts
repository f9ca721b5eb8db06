import { parseStream } from '../append/appendRequest.js';
import { moduleAuthority } from '../append/authority.js';
import type { GuardContext } from '../context.js';
import { partitionOf } from '../protocol/partitioner.js';
import { lookupId } from '../protocol/redisState.js';
import type { StreamReader } from '../read/streamReader.js';
import type { AppendService } from '../write/appendService.js';
import type { CommandStore } from './commandStore.js';

/**
 * The command handler's event store inside a guard: versions from the guard's Redis state, events from Kafka, and
 * appends through the same front door (checks, group commit, compare-and-swap) as HTTP appends. A module writes
 * under its own service's authority: its category, nothing else. A load on a cache miss reads through the stream's
 * position index (guard/read/): its cost follows the events read, not the partition.
 */
export function guardStore(ctx: GuardContext, service: AppendService, reader: StreamReader): CommandStore {
  return {
    locate: (stream) => service.locate(parseStream(stream)),
    async read(slice) {
      // The cached state's next offset bounds where the versions after it can be: no read starts before it.
      const { events } = await reader.read(
        { topic: slice.topic, partition: slice.partition, stream: slice.stream },
        slice.afterVersion + 1,
        slice.untilVersion,
        { lowerBound: slice.fromOffset },
      );
      return events.map((e) => ({ type: e.type, data: e.data, version: e.version, offset: e.position.offset }));
    },
    append: async (module, stream, expected, events, clientDeadline, traceparent) =>
      service.appendPrepared(
        { stream: parseStream(stream), expected, events: service.prepare(events) },
        moduleAuthority(module.service, module.category),
        clientDeadline,
        traceparent,
      ),
    async written(eventId, stream) {
      // The idempotency window of the stream's partition (guard/protocol/idWindow.ts). A reserved id is 'pending'
      // while its reservation exists: its outcome is open. The id names the stream (commandEventId), so a written one
      // is this stream's. The partition comes from the topic's partition count, not from Redis: one round trip, not
      // two, and it runs beside the command's load (which checks that the guard's state is validated).
      const name = parseStream(stream);
      const partitions = await ctx.topics.existingPartitionsOf(name.category);
      if (partitions === undefined) return undefined;
      const topic = ctx.topics.topicOf(name.category);
      const found = await lookupId(ctx.redis, ctx.keys.partition(topic, partitionOf(stream, partitions)), eventId);
      if (found === undefined || found === 'pending') return found;
      return { stream, version: found.version };
    },
  };
}
