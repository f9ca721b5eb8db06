import type { BankWorkload } from './bankWorkload.js';
import { ProgressBar, progressLine } from './progressBar.js';
import type { ProjectorLag } from './projectorLag.js';

/**
 * Runs the workload with the live progress line on stderr, redrawn four times a second: commands per second over
 * the last second or so, conflicts retried, rejections, transfers requested, projection lag. Answers the seconds
 * the workload ran.
 */
export async function runWithProgressLine(
  workload: BankWorkload,
  lag: ProjectorLag,
  durationS: number,
): Promise<number> {
  const bar = new ProgressBar();
  const began = Date.now();
  let window = { at: began, commands: workload.stats.commands };
  let perS = 0;
  const figures = () => {
    const now = Date.now();
    if (now - window.at >= 1_000) {
      perS = ((workload.stats.commands - window.commands) * 1000) / (now - window.at);
      window = { at: now, commands: workload.stats.commands };
    }
    return progressLine({
      elapsedS: (now - began) / 1000,
      durationS,
      commandsPerS: perS,
      conflictsRetried: workload.stats.conflictsRetried,
      rejected: [...workload.stats.rejected.values()].reduce((a, b) => a + b, 0),
      transfers: workload.stats.transfersRequested,
      lag: lag.value,
    });
  };
  const ticker = setInterval(() => bar.update(figures()), 250);
  try {
    await workload.run();
  } finally {
    clearInterval(ticker);
  }
  bar.done(figures());
  return (Date.now() - began) / 1000;
}
