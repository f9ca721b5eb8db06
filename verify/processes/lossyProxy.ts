import { createServer, request, type Server } from 'node:http';

/**
 * An HTTP proxy in front of a guard that forwards every request but, for a share of them, throws the answer away
 * and cuts the client's connection after the guard has answered: the write happened, the client cannot know.
 */
export class LossyProxy {
  private server: Server | undefined;
  port = 0;
  answersDropped = 0;

  constructor(
    private readonly target: string,
    /** Share of successful append answers thrown away; may change while the proxy runs (the soak turns it on and off). */
    public dropShare: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const target = new URL(this.target);
    this.server = createServer((incoming, outgoing) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (c: Buffer) => chunks.push(c));
      incoming.on('end', () => {
        const upstream = request(
          {
            host: target.hostname,
            port: target.port,
            method: incoming.method,
            path: incoming.url,
            headers: incoming.headers,
          },
          (answer) => {
            const body: Buffer[] = [];
            answer.on('data', (c: Buffer) => body.push(c));
            answer.on('end', () => {
              const isAppend = incoming.method === 'POST' && answer.statusCode === 200;
              if (isAppend && Math.random() < this.dropShare) {
                this.answersDropped += 1;
                incoming.socket.destroy();
                return;
              }
              outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
              outgoing.end(Buffer.concat(body));
            });
          },
        );
        upstream.on('error', () => incoming.socket.destroy());
        upstream.end(Buffer.concat(chunks));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}
