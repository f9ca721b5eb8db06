import { describe, expect, it } from 'vitest';
import { ProbeWatch } from './probeWatch.js';

describe('ProbeWatch', () => {
  it('rolls forward exactly the reservations whose probe was read back', () => {
    const watch = new ProbeWatch(['p1', 'p2', 'p3']);
    for (const id of ['x', 'p2', 'y', 'p3', 'p3']) watch.seen(id);
    expect(['p1', 'p2', 'p3'].map((p) => watch.found(p))).toEqual([false, true, true]);
  });

  it('an id read back that is no probe decides nothing', () => {
    const watch = new ProbeWatch(['p1']);
    watch.seen('p2');
    expect(watch.found('p2')).toBe(false);
    expect(watch.found('p1')).toBe(false);
  });
});
