import { describe, expect, it } from 'vitest';
import { checkHistory } from '../../verify/history/checkHistory.js';
import type { CommittedEvent } from '../../verify/history/committedEvents.js';
import { countAnomalies } from './anomalies.js';

const event = (stream: string, version: number, offset: number): CommittedEvent => ({
  topic: 't',
  partition: 0,
  offset,
  stream,
  version,
  eventId: `${stream}-${offset}`,
  type: 'MoneyDeposited',
});

describe('countAnomalies', () => {
  it('counts nothing when every increment landed on the version it read', () => {
    const log = [event('a-1', 0, 0), event('a-1', 1, 1), event('a-2', 0, 2)];
    const { violations } = checkHistory([], log, { allowUnlogged: true });
    expect(countAnomalies(3, log, violations)).toMatchObject({ lostUpdates: 0, duplicateVersions: 0, gaps: 0 });
  });

  it('counts a lost update and a duplicate version when two writers decided on the same state', () => {
    // both read version 0 and wrote "version 1, balance 2": one increment is gone from the state
    const log = [event('a-1', 0, 0), event('a-1', 1, 1), event('a-1', 1, 2)];
    const { violations } = checkHistory([], log, { allowUnlogged: true });
    expect(countAnomalies(3, log, violations)).toMatchObject({
      finalBalance: 2,
      lostUpdates: 1,
      duplicateVersions: 1,
    });
  });

  it('counts a gap, and takes the last event in the log as the final state', () => {
    const log = [event('a-1', 0, 0), event('a-1', 2, 1)];
    const { violations } = checkHistory([], log, { allowUnlogged: true });
    expect(countAnomalies(2, log, violations)).toMatchObject({ finalBalance: 3, lostUpdates: 0, gaps: 1 });
  });
});
