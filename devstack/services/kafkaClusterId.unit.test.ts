import { describe, expect, it } from 'vitest';
import { newKafkaClusterId } from './kafkaClusterId.js';

describe('newKafkaClusterId', () => {
  it('is 22 base64url characters', () => {
    expect(newKafkaClusterId()).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it("draws again when the id would start with '-' (the storage tool would read it as an option) or be all zeros", () => {
    // 0xf8 is '-' followed by bits of the next byte in base64url's first character.
    const draws = [Buffer.alloc(16, 0xf8), Buffer.alloc(16, 0), Buffer.alloc(16, 0x10)];
    const id = newKafkaClusterId(() => draws.shift() ?? Buffer.alloc(16, 0x10));
    expect(Buffer.alloc(16, 0xf8).toString('base64url').startsWith('-')).toBe(true);
    expect(draws).toHaveLength(0);
    expect(id).toBe(Buffer.alloc(16, 0x10).toString('base64url'));
  });
});
