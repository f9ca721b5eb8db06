/**
 * The demo's live line on stderr: redrawn in place on a terminal, printed every few seconds otherwise (CI logs).
 */
export interface ProgressFigures {
  elapsedS: number;
  durationS: number;
  commandsPerS: number;
  conflictsRetried: number;
  rejected: number;
  transfers: number;
  /** Records the projector has not projected yet (undefined until its metrics answer). */
  lag: number | undefined;
}

const WIDTH = 24;

export function progressLine(f: ProgressFigures): string {
  const share = f.durationS > 0 ? Math.min(1, f.elapsedS / f.durationS) : 1;
  const filled = Math.round(share * WIDTH);
  const bar = `${'█'.repeat(filled)}${'░'.repeat(WIDTH - filled)}`;
  const n = (x: number) => Math.round(x).toLocaleString('en-US');
  return (
    `demo ▕${bar}▏ ${n(f.elapsedS)}/${n(f.durationS)} s │ ${n(f.commandsPerS)} commands/s │ ` +
    `conflicts retried ${n(f.conflictsRetried)} │ rejected ${n(f.rejected)} │ transfers ${n(f.transfers)} │ ` +
    `projection lag ${f.lag === undefined ? '…' : n(f.lag)}`
  );
}

export class ProgressBar {
  private lastPrinted = 0;
  private drawn = false;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly plainEveryMs = 5_000,
  ) {}

  update(line: string): void {
    if (this.stream.isTTY) {
      const width = this.stream.columns ?? 160;
      this.stream.write(`\r${line.slice(0, width - 1).padEnd(Math.min(width - 1, line.length))}\x1b[K`);
      this.drawn = true;
      return;
    }
    if (Date.now() - this.lastPrinted >= this.plainEveryMs) {
      this.lastPrinted = Date.now();
      this.stream.write(`${line}\n`);
    }
  }

  /** Leaves the last line on screen and moves below it. */
  done(line: string): void {
    if (this.stream.isTTY) {
      this.update(line);
      if (this.drawn) this.stream.write('\n');
    } else this.stream.write(`${line}\n`);
  }
}

/** The sum of a gauge's samples in Prometheus text (e.g. `kes_projector_lag_records` over every partition). */
export function sumOfMetric(text: string, name: string): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) sum = (sum ?? 0) + value;
  }
  return sum;
}
