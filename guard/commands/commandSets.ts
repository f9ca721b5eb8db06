import type { CommandRequest } from './commandRequest.js';

/** What set selection looks at in a waiting command. */
export interface SetCandidate {
  /** Commands of one stream of different modules (two hosts of one category) never share a decision. */
  module: unknown;
  request: Pick<CommandRequest, 'expectedVersion' | 'commandId'>;
  traceparent?: string | undefined;
}

/**
 * Takes from the head of a stream's queue the commands that can be decided together and written as one append, and
 * leaves the rest for the next set. The set is a prefix, so commands keep the order they arrived in. It stops before:
 * - a command that names its expected version: it is checked against the committed version, never against one its
 *   predecessors in the set made up, so it only goes first and alone (a 409 is decided on settled state only);
 * - a second command with a command id already in the set: a retry racing its first attempt would put the same event
 *   ids twice into one append; the next set finds the first one written and answers the retry as a duplicate;
 * - a command with another traceparent: the append's records carry one, and a trace must not claim others' events;
 * - `max` commands.
 */
export function takeTogether<T extends SetCandidate>(queue: T[], max: number): T[] {
  const head = queue[0];
  if (head === undefined) return [];
  let n = 1;
  if (head.request.expectedVersion === undefined) {
    const ids = new Set<string>();
    if (head.request.commandId !== undefined) ids.add(head.request.commandId);
    while (n < queue.length && n < max) {
      const next = queue[n] as T;
      const { expectedVersion, commandId } = next.request;
      if (expectedVersion !== undefined || next.module !== head.module || next.traceparent !== head.traceparent) break;
      if (commandId !== undefined) {
        if (ids.has(commandId)) break;
        ids.add(commandId);
      }
      n++;
    }
  }
  return queue.splice(0, n);
}
