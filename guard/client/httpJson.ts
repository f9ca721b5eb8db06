import http from 'node:http';

/**
 * JSON over HTTP/1.1 with kept-alive connections, on node:http. The command client sends many small requests
 * (a process manager, a demo's clients): measured on this machine, node:http costs about 260 µs of client CPU per
 * request where fetch costs about 680 µs, and answers in half the time under load.
 */
export interface JsonAnswer {
  status: number;
  json: Record<string, unknown>;
  headers: http.IncomingHttpHeaders;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

export function requestJson(
  url: string,
  options: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string; timeoutMs: number },
): Promise<JsonAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...options.headers };
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(options.body);
    }
    const request = http.request(url, { method: options.method, headers, agent, timeout: options.timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        try {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            json: JSON.parse(text) as Record<string, unknown>,
            headers: res.headers,
          });
        } catch (error) {
          reject(error);
        }
      });
    });
    request.on('timeout', () => request.destroy(new Error(`no answer from ${url} within ${options.timeoutMs} ms`)));
    request.on('error', reject);
    request.end(options.body);
  });
}
