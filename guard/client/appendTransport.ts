import type http from 'node:http';
import { ATTEMPT_DEADLINE_HEADER } from '../append/attemptDeadline.js';
import { type ItemAnswer, lostAnswer } from './appendAnswers.js';
import type { BatchAnswer } from './batchResults.js';
import { type JsonAnswer, requestJson } from './httpJson.js';

/**
 * The two append requests over kept-alive node:http (fetch cost 2.6 ms of client CPU per append here): one append
 * (`POST /streams/:stream/events`) and a batch (`POST /appends`). Neither throws: no answer is an answer ('lost').
 */
export interface AppendTransport {
  apiKey: string;
  timeoutMs: number;
  agent?: http.Agent | undefined;
}

export async function postAppend(
  transport: AppendTransport,
  url: string,
  stream: string,
  body: string,
): Promise<ItemAnswer> {
  return answered(await post(transport, `${url}/streams/${encodeURIComponent(stream)}/events`, body));
}

/** A batch body from its items' JSON, each serialised once when the append was made (retries reuse it). */
export async function postAppends(
  transport: AppendTransport,
  url: string,
  itemsJson: readonly string[],
  atomic: boolean,
): Promise<BatchAnswer> {
  const body = `{"appends":[${itemsJson.join(',')}],"atomic":${atomic}}`;
  return answered(await post(transport, `${url}/appends`, body));
}

async function post(transport: AppendTransport, url: string, body: string): Promise<JsonAnswer | ItemAnswer> {
  try {
    return await requestJson(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${transport.apiKey}`,
        // The attempt is given up at the timeout; the guard must not reserve it after that, or it could be
        // written after its retry was answered.
        [ATTEMPT_DEADLINE_HEADER]: String(Date.now() + transport.timeoutMs),
      },
      body,
      timeoutMs: transport.timeoutMs,
      ...(transport.agent === undefined ? {} : { agent: transport.agent }),
    });
  } catch (error) {
    return lostAnswer(error);
  }
}

function answered(answer: JsonAnswer | ItemAnswer): ItemAnswer {
  if ('kind' in answer) return answer;
  const retryAfter = answer.headers['retry-after'];
  return { kind: 'answered', status: answer.status, body: answer.json, retryAfter };
}
