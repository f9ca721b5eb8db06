import { parseStream } from '../append/appendRequest.js';
import { moduleAuthority } from '../append/authority.js';
import type { GuardContext } from '../context.js';
import type { StreamReader } from '../read/streamReader.js';
import type { AppendService } from '../write/appendService.js';
import type { CommandStore } from './commandHandler.js';

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
    async written(eventId) {
      // The idempotency window: event id -> "stream|version|topic|partition|offset|hash" (guard/protocol/keys.ts).
      const entry = await ctx.redis.hget(ctx.keys.ids, eventId);
      if (entry === null) return undefined;
      if (entry.startsWith('~')) {
        // '~<res key>|<reservation>|<stream>|<hash>': reserved by an append. While that reservation exists its
        // outcome is open; once it is gone (confirmed, released or resolved), a mark left behind means nothing, as
        // the guard's own reserve script reads it.
        const [resKey, resId] = entry.slice(1).split('|');
        const open = await ctx.redis.hexists(resKey as string, resId as string);
        return open === 1 ? 'pending' : undefined;
      }
      const [stream, version] = entry.split('|');
      return { stream: stream as string, version: Number(version) };
    },
  };
}
