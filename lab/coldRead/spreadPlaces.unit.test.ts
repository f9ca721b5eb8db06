import { describe, expect, it } from 'vitest';
import { spreadPlaces } from './spreadPlaces.js';

describe('spreadPlaces', () => {
  it('spreads the events evenly, each in its own place, inside the partition', () => {
    expect(spreadPlaces(1000, 4)).toEqual([125, 375, 625, 875]);
    const places = spreadPlaces(100, 100);
    expect(new Set(places).size).toBe(100);
    expect(Math.max(...places)).toBe(99);
  });

  it('refuses more events than places', () => {
    expect(() => spreadPlaces(10, 11)).toThrow(/11 events cannot be spread over 10 offsets/);
  });
});
