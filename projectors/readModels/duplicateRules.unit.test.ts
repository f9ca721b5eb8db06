import { describe, expect, it } from 'vitest';
import { duplicateProblem } from './duplicateRules.js';

describe('duplicateProblem', () => {
  it('accepts a ReplacingMergeTree (any variant) ordered by a key that holds stream and version', () => {
    for (const engine of ['ReplacingMergeTree', 'ReplicatedReplacingMergeTree', 'SharedReplacingMergeTree']) {
      expect(duplicateProblem({ engine, sortingKey: 'category, stream, version' })).toBeUndefined();
    }
    expect(duplicateProblem({ engine: 'ReplacingMergeTree', sortingKey: 'stream, version' })).toBeUndefined();
    expect(
      duplicateProblem({ engine: 'ReplacingMergeTree', sortingKey: 'sku, `stream`, day, version' }),
    ).toBeUndefined();
  });

  it('refuses engines that keep or add up both copies of a replayed row', () => {
    for (const engine of ['MergeTree', 'SummingMergeTree', 'AggregatingMergeTree', 'Log', 'Memory']) {
      expect(duplicateProblem({ engine, sortingKey: 'stream, version' })).toContain(
        `it is a ${engine} ordered by (stream, version), which keeps every copy`,
      );
    }
    expect(duplicateProblem({ engine: 'MergeTree', sortingKey: '' })).toContain('ordered by nothing (no ORDER BY key)');
  });

  it('refuses a ReplacingMergeTree whose key lacks stream or version', () => {
    expect(duplicateProblem({ engine: 'ReplacingMergeTree', sortingKey: 'sku' })).toContain(
      'ordered by (sku), without stream and version',
    );
    expect(duplicateProblem({ engine: 'ReplacingMergeTree', sortingKey: 'stream' })).toContain('without version');
    expect(duplicateProblem({ engine: 'ReplacingMergeTree', sortingKey: '(sku)' })).toContain(
      'ordered by (sku), without stream and version',
    );
    // An expression of a column is not the column: cityHash64(stream) could collide two streams into one key.
    expect(duplicateProblem({ engine: 'ReplacingMergeTree', sortingKey: 'cityHash64(stream), version' })).toContain(
      'without stream',
    );
  });
});
