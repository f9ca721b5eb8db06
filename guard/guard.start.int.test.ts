import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addressesToEnv } from '../devstack/types.js';
import { freePort } from '../test/support/freePort.js';
import { uniqueName } from '../test/support/names.js';
import { runKes } from '../test/support/runKes.js';
import { stack } from '../test/support/stack.js';

/** `kes guard` checks the event schemas before it takes any write, and refuses to start on a bad one. */
describe('kes guard start-up', () => {
  function schemaDir(namespace: string, amountType: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'kes-guard-schemas-'));
    mkdirSync(join(dir, 'payments'));
    writeFileSync(
      join(dir, 'payments', 'PaymentTaken.avsc'),
      JSON.stringify({
        type: 'record',
        name: 'PaymentTaken',
        namespace,
        fields: [
          { name: 'paymentId', type: 'string' },
          { name: 'amount', type: amountType },
        ],
      }),
    );
    return dir;
  }

  it('refuses to start with a local schema the registry would reject, naming the file and the field', async () => {
    const namespace = uniqueName('t');
    const env = {
      ...addressesToEnv(stack()),
      KES_REDIS_PREFIX: `${namespace}:`,
      KES_TOPIC_PREFIX: `${namespace}.`,
    } as NodeJS.ProcessEnv;
    // The registry learns v1 (amount: long) through `kes schemas push`.
    const v1 = schemaDir(namespace, 'long');
    expect((await runKes(['schemas', 'push', '--dir', v1], { env })).code).toBe(0);
    // A guard with v2 (amount: string) must not start.
    const v2 = schemaDir(namespace, 'string');
    const run = await runKes(['guard', '--port', String(await freePort())], {
      env: { ...env, KES_SCHEMAS_DIR: v2 },
      timeoutMs: 60_000,
    });
    expect(run.code).toBe(9);
    expect(run.stderr).toContain(join('payments', 'PaymentTaken.avsc'));
    expect(run.stderr).toMatch(/amount/);
    expect(run.stdout).not.toContain('guard listening');
  });
});
