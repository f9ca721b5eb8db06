import { KesProcess } from './kesProcess.js';

/**
 * A guard in its own process (`kes guard`, from dist/), so that tests can kill -9 it, SIGSTOP it, and start it
 * again on the same port, like a crashed, paused or restarted service.
 */
export class GuardProcess extends KesProcess {
  constructor(
    name: string,
    readonly port: number,
    env: Record<string, string | undefined>,
  ) {
    super(name, ['guard', '--port', String(port)], `http://127.0.0.1:${port}/health/ready`, {
      KES_LOG_LEVEL: process.env.KES_FAULT_LOG_LEVEL ?? 'warn',
      ...env,
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }
}
