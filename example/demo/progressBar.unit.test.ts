import { describe, expect, it } from 'vitest';
import { progressLine, sumOfMetric } from './progressBar.js';

describe('the demo progress line', () => {
  it('sums a gauge over its labels in Prometheus text, and knows when it is absent', () => {
    const text = [
      '# HELP kes_projector_lag_records records behind',
      '# TYPE kes_projector_lag_records gauge',
      'kes_projector_lag_records{projection="events",topic="kes.events.account",partition="0"} 3',
      'kes_projector_lag_records{projection="events",topic="kes.events.account",partition="1"} 4',
      'kes_projector_lag_records_other 100',
    ].join('\n');
    expect(sumOfMetric(text, 'kes_projector_lag_records')).toBe(7);
    expect(sumOfMetric(text, 'kes_missing')).toBeUndefined();
  });

  it('shows elapsed time as a bar, rates and counts with separators, and an unknown lag as …', () => {
    const line = progressLine({
      elapsedS: 15,
      durationS: 30,
      commandsPerS: 1234.4,
      conflictsRetried: 12_345,
      rejected: 7,
      transfers: 42,
      lag: undefined,
    });
    expect(line).toContain('▕████████████░░░░░░░░░░░░▏ 15/30 s');
    expect(line).toContain('1,234 commands/s');
    expect(line).toContain('conflicts retried 12,345');
    expect(line).toContain('projection lag …');
  });
});
