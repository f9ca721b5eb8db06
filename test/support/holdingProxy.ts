import { createServer, type IncomingHttpHeaders, request, type Server, type ServerResponse } from 'node:http';

/** What the guard answered a request the proxy forwarded late, whether or not its client was still there. */
export interface LateAnswer {
  path: string;
  status: number;
  body: string;
  /** Whether the client was still waiting when the answer came (false: it had given up). */
  clientWaiting: boolean;
}

interface Held {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  outgoing: ServerResponse;
}

/**
 * An HTTP proxy in front of a guard that holds the first `holdAppends` appends (POSTs) until `release()` and
 * forwards everything else at once: a request stuck in a network queue or an overloaded load balancer, which
 * reaches the guard after its client has given up on it. A released request is forwarded even when its client is
 * gone, and the guard's answer to it is kept in `lateAnswers`: what the guard did with an abandoned attempt.
 */
export class HoldingProxy {
  private server: Server | undefined;
  private readonly held: Held[] = [];
  private toHold: number;
  port = 0;
  readonly lateAnswers: LateAnswer[] = [];

  constructor(
    private readonly target: string,
    holdAppends = 1,
  ) {
    this.toHold = holdAppends;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Requests held now (received complete, not forwarded yet). */
  get holding(): number {
    return this.held.length;
  }

  async start(): Promise<void> {
    this.server = createServer((incoming, outgoing) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (c: Buffer) => chunks.push(c));
      incoming.on('end', () => {
        const held: Held = {
          method: incoming.method ?? 'GET',
          path: incoming.url ?? '/',
          headers: incoming.headers,
          body: Buffer.concat(chunks),
          outgoing,
        };
        if (held.method === 'POST' && this.toHold > 0) {
          this.toHold -= 1;
          this.held.push(held);
          return;
        }
        void this.forward(held).catch(() => {});
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
  }

  /** Forwards every held request now; resolves with the guard's answers to them. */
  async release(): Promise<LateAnswer[]> {
    const held = this.held.splice(0);
    const answers = await Promise.all(held.map((h) => this.forward(h)));
    this.lateAnswers.push(...answers);
    return answers;
  }

  private forward(h: Held): Promise<LateAnswer> {
    const target = new URL(this.target);
    return new Promise<LateAnswer>((resolve, reject) => {
      const upstream = request(
        { host: target.hostname, port: target.port, method: h.method, path: h.path, headers: h.headers },
        (answer) => {
          const body: Buffer[] = [];
          answer.on('data', (c: Buffer) => body.push(c));
          answer.on('end', () => {
            const clientWaiting = !h.outgoing.destroyed && !h.outgoing.socket?.destroyed;
            if (clientWaiting) {
              h.outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
              h.outgoing.end(Buffer.concat(body));
            }
            resolve({
              path: h.path,
              status: answer.statusCode ?? 0,
              body: Buffer.concat(body).toString(),
              clientWaiting,
            });
          });
        },
      );
      upstream.on('error', (error) => {
        h.outgoing.socket?.destroy();
        reject(error);
      });
      upstream.end(h.body);
    });
  }

  async stop(): Promise<void> {
    for (const h of this.held.splice(0)) h.outgoing.socket?.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}
