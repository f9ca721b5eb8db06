import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ItemAnswer } from './appendAnswers.js';
import { BatchCoalescer } from './batchCoalescer.js';
import { coalescePolicy } from './coalescePlan.js';

/** The coalescer with a recording `send`: what goes together, and that each append gets its own answer. */
describe('BatchCoalescer', () => {
  const echo = (sent: string[][]) => async (items: readonly string[]) => {
    sent.push([...items]);
    return items.map((json): ItemAnswer => ({ kind: 'answered', status: 200, body: { echo: json } }));
  };

  it('whatever the policy and the sizes, every append is sent once, in order, within the limits, and gets its own answer', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.integer({ min: 1, max: 600 }), { minLength: 1, maxLength: 40 }),
        async (maxAppends, sizes) => {
          const sent: string[][] = [];
          const policy = coalescePolicy({ lingerMs: 0, maxAppends, maxBytes: 1_024 });
          const coalescer = new BatchCoalescer(policy, echo(sent));
          const items = sizes.map((n, i) => `${i}:${'x'.repeat(n)}`);
          const answers = await Promise.all(items.map((json) => coalescer.submit(json)));
          answers.forEach((a, i) => {
            expect(a.kind === 'answered' && a.body.echo).toBe(items[i]);
          });
          expect(sent.flat()).toEqual(items);
          for (const batch of sent) {
            expect(batch.length).toBeLessThanOrEqual(maxAppends);
            // Over the byte limit only when one append alone is.
            const bytes = batch.reduce((sum, json) => sum + Buffer.byteLength(json) + 1, 0);
            if (batch.length > 1) expect(bytes).toBeLessThanOrEqual(1_024);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('appends made within the linger share one request; sendSoon sends at the end of the tick', async () => {
    const sent: string[][] = [];
    const coalescer = new BatchCoalescer(coalescePolicy({ lingerMs: 20, maxAppends: 100 }), echo(sent));
    const lingering = [coalescer.submit('a'), coalescer.submit('b')];
    const soon = coalescer.submit('c', { sendSoon: true });
    await Promise.all([...lingering, soon]);
    expect(sent).toEqual([['a', 'b', 'c']]);
  });

  it('a send that throws leaves every append of its request without an answer (lost), never hanging', async () => {
    const coalescer = new BatchCoalescer(coalescePolicy({ lingerMs: 0 }), async () => {
      throw new Error('bug in send');
    });
    const answers = await Promise.all([coalescer.submit('a'), coalescer.submit('b')]);
    expect(answers).toEqual([
      { kind: 'lost', reason: 'client_error', message: 'bug in send' },
      { kind: 'lost', reason: 'client_error', message: 'bug in send' },
    ]);
  });
});
