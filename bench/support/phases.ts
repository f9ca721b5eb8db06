import { progress } from './run.js';

/** One named step of a benchmark; it reads what earlier phases left in the run and adds its own figures. */
export interface Phase<Run> {
  name: string;
  run: (run: Run) => Promise<void>;
}

/**
 * The phases --phases names, in the benchmark's order, less any a --skip-… flag drops. An unknown name is an error,
 * so a typo does not silently measure nothing.
 */
export function choosePhases<Run>(
  all: readonly Phase<Run>[],
  flag: string,
  skipped: readonly string[] = [],
): Phase<Run>[] {
  const known = new Set(all.map((p) => p.name));
  const wanted = new Set(
    flag
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  );
  for (const name of wanted) {
    if (!known.has(name)) throw new Error(`--phases: no phase '${name}' (phases: ${[...known].join(', ')})`);
  }
  return all.filter((p) => wanted.has(p.name) && !skipped.includes(p.name));
}

export async function runPhases<Run>(phases: readonly Phase<Run>[], run: Run): Promise<void> {
  for (const [i, phase] of phases.entries()) {
    progress(`phase ${i + 1}/${phases.length}: ${phase.name}`);
    await phase.run(run);
  }
}
