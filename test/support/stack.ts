import { inject } from 'vitest';
import type { StackAddresses } from '../../devstack/types.js';

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackAddresses;
    stackSource: 'env' | 'containers' | 'local';
  }
}

/** The real services of this test run, provided by test/setup/globalSetup.ts. */
export function stack(): StackAddresses {
  return inject('stack');
}
