import { createHash } from 'node:crypto';
import { InvalidRequestError } from '../../pipeline/errors.js';
import { isObject } from '../../pipeline/isObject.js';
import type { CommandModule } from './decider.js';

/**
 * A command as a client sends it: `{ "type", "data", "expectedVersion"?, "commandId"? }`. Checked completely before
 * any state is loaded; every error names the field (`type`, `data.amount`, `expectedVersion`).
 */
export interface CommandRequest {
  type: string;
  data: unknown;
  /** Decide only on exactly this version of the stream (409 otherwise, never retried). */
  expectedVersion?: number;
  /**
   * The caller's id for this command. Event ids are derived from it, so sending the same command again (a lost
   * answer, a redelivered event in a process manager) is answered from its first write instead of writing twice.
   */
  commandId?: string;
}

const COMMAND_ID = /^[A-Za-z0-9_.:@-]{1,200}$/;
const FIELDS = ['type', 'data', 'expectedVersion', 'commandId'];

export function parseCommandRequest(body: unknown): CommandRequest {
  if (!isObject(body)) throw new InvalidRequestError('invalid_body', 'body', 'expected a JSON object');
  for (const key of Object.keys(body)) {
    if (!FIELDS.includes(key)) {
      throw new InvalidRequestError('unknown_field', key, `unknown field (expected ${FIELDS.join(', ')})`);
    }
  }
  const { type, data, expectedVersion, commandId } = body;
  if (typeof type !== 'string' || type.length === 0) {
    throw new InvalidRequestError('missing_field', 'type', 'required: the command type');
  }
  const request: CommandRequest = { type, data: data ?? {} };
  if (expectedVersion !== undefined) {
    if (typeof expectedVersion !== 'number' || !Number.isSafeInteger(expectedVersion) || expectedVersion < -1) {
      throw new InvalidRequestError(
        'invalid_expected_version',
        'expectedVersion',
        `expected an integer >= -1 (-1: the stream has no events), got ${JSON.stringify(expectedVersion)}`,
      );
    }
    request.expectedVersion = expectedVersion;
  }
  if (commandId !== undefined) {
    if (typeof commandId !== 'string' || !COMMAND_ID.test(commandId)) {
      throw new InvalidRequestError(
        'invalid_command_id',
        'commandId',
        'expected 1 to 200 of letters, digits and _ . : @ -',
      );
    }
    request.commandId = commandId;
  }
  return request;
}

/** The command's data, checked against the module's schema for its type. */
export function parseCommandData(module: CommandModule, request: CommandRequest): unknown {
  const schemas = module.commands as Record<string, CommandModule['commands'][string]>;
  const schema = Object.hasOwn(schemas, request.type) ? schemas[request.type] : undefined;
  if (!schema) {
    throw new InvalidRequestError(
      'unknown_command',
      'type',
      `unknown command '${request.type}' for ${module.category} (valid: ${Object.keys(schemas).join(', ')})`,
    );
  }
  const parsed = schema.safeParse(request.data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = ['data', ...(issue?.path ?? []).map(String)].join('.');
    throw new InvalidRequestError('invalid_command', path, issue?.message ?? 'does not match the command schema');
  }
  return parsed.data;
}

/**
 * Event ids derived from a command id: a UUID (version 8, RFC 9562's custom layout) from SHA-256 of the stream, the
 * command id and the event's index, so the same command on the same stream always gets the same ids.
 */
export function commandEventId(stream: string, commandId: string, index: number): string {
  const bytes = createHash('sha256').update(`${stream}\n${commandId}\n${index}`).digest().subarray(0, 16);
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
