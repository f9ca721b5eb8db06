import { describe, expect, it } from 'vitest';
import { GuardMetrics } from '../../guard/metrics.js';
import { ProjectorMetrics } from '../../projectors/metrics.js';
import { ProcessManagerMetrics } from './processManager.js';

describe('every kes process registry carries the process metrics', () => {
  it.each([
    ['guard', () => new GuardMetrics().registry],
    ['projector', () => new ProjectorMetrics().registry],
    ['transfers', () => new ProcessManagerMetrics().registry],
  ])('%s', async (_name, registry) => {
    const text = await registry().metrics();
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(text).toContain(name);
    }
  });
});
