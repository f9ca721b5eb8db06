import type { OutputFormat } from '../../pipeline/output/textOutput.js';

/**
 * What `kes demo` is asked to do. The flags are read and checked (integers in range, a known format) in
 * `cli/demoCommand.ts`; these are the checked values.
 */
export interface DemoOptions {
  home?: string | undefined;
  durationS: number;
  /** Commands per second over all clients; 0 = as fast as the system answers. */
  rate: number;
  accounts: number;
  concurrency: number;
  /** Guard processes (clients spread their commands over them). */
  guards: number;
  /** Leave the services (and the stack) running. */
  keep: boolean;
  /** Bring the stack up (false: use the services the configuration names, as they are). */
  stack: boolean;
  format: Extract<OutputFormat, 'table' | 'json'>;
}

/** Where the demo's lines go (stderr, through `progressPrinter`). */
export type Say = (line: string) => void;
