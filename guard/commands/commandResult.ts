/**
 * The answer of a command (`POST /commands/{category}/{id}`, `RunningGuard.handleCommand`, CommandClient.send).
 * A type only: the typed clients import it without loading the command handler.
 */
export interface CommandResult {
  stream: string;
  command: string;
  /** The stream's version after the command (-1: still no events). */
  version: number;
  /** The events this command wrote (none when decide had nothing to do). */
  events: { id: string; type: string; version: number }[];
  position?: { topic: string; partition: number; offset: number };
  /** 1 when the first decision was written; more when conflicts made the handler reload and decide again. */
  attempts: number;
  /** The command id was already applied: this is the answer of its first write, nothing new was written. */
  duplicate?: boolean;
}
