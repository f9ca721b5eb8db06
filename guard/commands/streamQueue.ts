/**
 * Commands waiting per stream. The first command of an idle stream starts a drain after the current turn of the event
 * loop, so that the other items of the same `POST /commands` (and requests read in the same turn) join it; while a set
 * is being decided and written, the commands that arrive wait, and the next set takes them all at once. One set per
 * stream at a time in this process: on a hot stream that turns N writers' N appends, each waiting for the previous
 * one's commit, into one append per commit.
 */
export class StreamQueue<T> {
  private readonly waiting = new Map<string, T[]>();

  constructor(
    /** Removes from the queue the items of the next set (at least one). */
    private readonly take: (queue: T[]) => T[],
    /** Decides and writes one set and answers each of its items, whatever fails. */
    private readonly run: (stream: string, set: T[]) => Promise<void>,
  ) {}

  push(stream: string, item: T): void {
    const queue = this.waiting.get(stream);
    if (queue) {
      queue.push(item);
      return;
    }
    const fresh = [item];
    this.waiting.set(stream, fresh);
    setImmediate(() => void this.drain(stream, fresh));
  }

  private async drain(stream: string, queue: T[]): Promise<void> {
    while (queue.length > 0) {
      // `run` answers its items itself; a throw past it must not strand the commands still waiting.
      await this.run(stream, this.take(queue)).catch(() => undefined);
    }
    this.waiting.delete(stream);
  }
}
