import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { progressPrinter } from '../../pipeline/output/textOutput.js';

/** The checkout (or package) root: dist/bench/support/ → three levels up. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Progress lines on stderr, so stdout carries nothing but the figures. */
export const progress = progressPrinter();

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A run's id: names its topics, Redis keys and run directory, so runs side by side do not meet. */
export function newRunId(): string {
  return `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

/**
 * Runs a benchmark's main and sets the exit code. With `exitAfterMs`, exits that long after the figures are out:
 * kafkajs and keep-alive sockets can hold the process for a while after everything is closed.
 */
export function runMain(name: string, main: () => Promise<number | undefined>, exitAfterMs?: number): void {
  main().then(
    (code) => {
      if (code !== undefined) process.exitCode = code;
      if (exitAfterMs !== undefined) setTimeout(() => process.exit(process.exitCode ?? 0), exitAfterMs).unref();
    },
    (error: unknown) => {
      process.stderr.write(`${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
      if (exitAfterMs !== undefined) setTimeout(() => process.exit(1), exitAfterMs).unref();
    },
  );
}
