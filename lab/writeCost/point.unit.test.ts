import { describe, expect, it } from 'vitest';
import { cpuPerAppendUs } from './point.js';

describe('cpuPerAppendUs', () => {
  it("sums the CPU of the path's processes and divides it by the appends written", () => {
    // 50% + 30% of a core is 0.8 s of CPU per second; over 1000 appends/s that is 800 µs each
    expect(cpuPerAppendUs({ 'bench client': 50, kafka: 30, redis: 99 }, ['bench client', 'kafka'], 1000)).toBe(800);
  });

  it('counts a process it has no figure for as nothing, and answers NaN without appends', () => {
    expect(cpuPerAppendUs({ kafka: 10 }, ['kafka', 'postgres'], 100)).toBe(1000);
    expect(cpuPerAppendUs({ kafka: 10 }, ['kafka'], 0)).toBeNaN();
  });
});
