import { sumOfMetric } from './progressBar.js';

/**
 * The projector's lag (records not projected yet, over every partition), read from its /metrics once a second for
 * the progress line and the drain. Undefined until the metrics first answer.
 */
export class ProjectorLag {
  value: number | undefined;
  private readonly poller: NodeJS.Timeout;

  constructor(projectorUrl: string) {
    this.poller = setInterval(() => {
      void fetch(`${projectorUrl}/metrics`, { signal: AbortSignal.timeout(1_000) })
        .then((r) => r.text())
        .then((text) => {
          this.value = sumOfMetric(text, 'kes_projector_lag_records');
        })
        .catch(() => {});
    }, 1_000);
  }

  /** Waits until the lag reads 0; false after the timeout. */
  async caughtUp(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.value === 0) return true;
      await new Promise((r) => setTimeout(r, 250));
    }
    return false;
  }

  stop(): void {
    clearInterval(this.poller);
  }
}
