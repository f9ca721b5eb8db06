import type { OutputFormat } from '../../pipeline/output/textOutput.js';
import type { DemoService, ServiceSpec } from './demoServices.js';

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
  /**
   * More `kes` processes to start once the guards and the projector run, given their addresses (`kes demo --keep`
   * adds the live dashboard this way: the example cannot import it). They are stopped or kept with the others.
   */
  extraServices?: ((started: { guards: DemoService[]; projector: DemoService }) => ServiceSpec[]) | undefined;
}

/** Where the demo's lines go (stderr, through `progressPrinter`). */
export type Say = (line: string) => void;
