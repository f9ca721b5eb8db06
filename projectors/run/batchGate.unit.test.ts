import { describe, expect, it } from 'vitest';
import { BatchGate } from './batchGate.js';

interface P {
  rows: number[];
  name: string;
}
const part = (name: string, rows = 1): P => ({ name, rows: Array.from({ length: rows }, (_, i) => i) });
const tick = () => new Promise((r) => setImmediate(r));

describe('BatchGate', () => {
  it('cuts the parts added in one turn into one flush, and lets the next batch be read while one is written', async () => {
    const flushed: string[][] = [];
    const releases: (() => void)[] = [];
    const gate = new BatchGate<P>(1000, async (parts) => {
      flushed.push(parts.map((p) => p.name));
      await new Promise<void>((r) => releases.push(r));
    });
    const a = gate.add(part('a'));
    const b = gate.add(part('b'));
    await Promise.all([a, b]); // nothing before them: admitted at once, written in the background
    await tick();
    expect(flushed).toEqual([['a', 'b']]);
    let cAdmitted = false;
    const c = gate.add(part('c')).then(() => {
      cAdmitted = true;
    });
    await tick();
    await tick();
    expect(cAdmitted).toBe(false); // the flush before c is still being written
    expect(flushed).toHaveLength(1);
    releases[0]?.();
    await c;
    await tick();
    expect(flushed).toEqual([['a', 'b'], ['c']]);
    releases[1]?.();
    await gate.idle();
  });

  it('cuts at once when the rows reach the limit', async () => {
    const flushed: string[][] = [];
    const gate = new BatchGate<P>(10, async (parts) => {
      flushed.push(parts.map((p) => p.name));
    });
    await gate.add(part('big', 10));
    await gate.add(part('next'));
    await gate.idle();
    expect(flushed).toEqual([['big'], ['next']]);
  });

  it('once a flush fails, no later flush runs and every add rejects until reset', async () => {
    const flushed: string[] = [];
    const broken: unknown[] = [];
    const gate = new BatchGate<P>(
      1000,
      async (parts) => {
        flushed.push(...parts.map((p) => p.name));
        if (parts.some((p) => p.name === 'bad')) throw new Error('insert failed');
      },
      (error) => broken.push(error),
    );
    await gate.add(part('bad'));
    const outcome = (promise: Promise<void>) =>
      promise.then(
        () => 'admitted',
        (error: Error) => error.message,
      );
    expect(await outcome(gate.add(part('after')))).toBe('insert failed'); // queued behind the failing flush
    expect(await outcome(gate.add(part('later')))).toBe('insert failed');
    await gate.idle();
    expect(flushed).toEqual(['bad']);
    expect(broken).toHaveLength(1);
    expect(gate.broken).toBe(true);
    gate.reset();
    await gate.add(part('again'));
    await gate.idle();
    expect(flushed).toEqual(['bad', 'again']);
  });
});
