import { InvalidRequestError, type KesError } from '../../pipeline/errors.js';
import { isObject } from '../../pipeline/isObject.js';
import { underPath } from '../append/batchRequest.js';
import { type CommandRequest, parseCommandRequest } from './commandRequest.js';

/**
 * `POST /commands`: `{ commands: [{ category, id, type, data, expectedVersion?, commandId? }] }`, each item exactly
 * like `POST /commands/{category}/{id}`. The items are independent: each is run as its own command (concurrently,
 * so their appends share group commits, one at a time per stream as always) and answered with its own status.
 */
export type CommandBatchItem =
  | { ok: true; category: string; id: string; request: CommandRequest }
  | { ok: false; error: KesError };

export function parseCommandBatch(body: unknown, maxCommands: number): CommandBatchItem[] {
  if (!isObject(body)) throw new InvalidRequestError('invalid_body', 'body', 'expected a JSON object');
  for (const key of Object.keys(body)) {
    if (key !== 'commands') throw new InvalidRequestError('unknown_field', key, 'unknown field (expected commands)');
  }
  const { commands } = body;
  if (!Array.isArray(commands)) throw new InvalidRequestError('invalid_commands', 'commands', 'expected an array');
  if (commands.length === 0) {
    throw new InvalidRequestError('invalid_commands', 'commands', 'at least one command is required');
  }
  if (commands.length > maxCommands) {
    throw new InvalidRequestError(
      'too_many_commands',
      'commands',
      `${commands.length} commands exceed the limit of ${maxCommands} (KES_MAX_BATCH_APPENDS)`,
    );
  }
  return commands.map((item, i) => parseItem(item, `commands[${i}]`));
}

function parseItem(item: unknown, at: string): CommandBatchItem {
  try {
    if (!isObject(item)) throw new InvalidRequestError('invalid_command', '', 'expected a JSON object');
    const { category, id, ...rest } = item;
    if (typeof category !== 'string' || category === '') {
      throw new InvalidRequestError('missing_field', 'category', 'required: the category of the module');
    }
    if (typeof id !== 'string' || id === '') throw new InvalidRequestError('missing_field', 'id', 'required: the id');
    return { ok: true, category, id, request: parseCommandRequest(rest) };
  } catch (error) {
    return { ok: false, error: underPath(error, at) };
  }
}
