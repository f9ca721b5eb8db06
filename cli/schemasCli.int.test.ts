import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { listSubjectVersions } from '../pipeline/registry/subjects.js';
import { uniqueName } from '../test/support/names.js';
import { runKes } from '../test/support/runKes.js';
import { stack } from '../test/support/stack.js';

/** `kes schemas check|push` as a user runs them (the built CLI, dist/), against the real registry. */

function dirWith(namespace: string, fields: unknown[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'kes-schemas-cli-'));
  writeFileSync(join(dir, 'Opened.avsc'), JSON.stringify({ type: 'record', name: 'Opened', namespace, fields }));
  return dir;
}

const v1 = [
  { name: 'accountId', type: 'string' },
  { name: 'amount', type: 'long' },
];

describe('kes schemas', () => {
  let env: NodeJS.ProcessEnv;
  beforeAll(() => {
    env = { SCHEMA_REGISTRY_URL: stack().schemaRegistryUrl };
  });

  it('push registers and prints ids; check then says unchanged (exit 0)', async () => {
    const namespace = uniqueName('t');
    const dir = dirWith(namespace, v1);
    const push = await runKes(['schemas', 'push', '--dir', dir, '--format', 'json'], { env });
    expect(push.stderr).toBe('');
    expect(push.code).toBe(0);
    const [row] = JSON.parse(push.stdout) as Record<string, unknown>[];
    expect(row).toMatchObject({ type: 'Opened', subject: `${namespace}.Opened`, status: 'new', version: 1 });
    expect(typeof row?.id).toBe('number');

    const check = await runKes(['schemas', 'check', '--dir', dir], { env });
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/Opened\.avsc.*unchanged/);
  });

  it('check exits 0 for a compatible change and 9 for an incompatible one, naming the file and the field', async () => {
    const namespace = uniqueName('t');
    await runKes(['schemas', 'push', '--dir', dirWith(namespace, v1)], { env });

    const compatible = dirWith(namespace, [...v1, { name: 'memo', type: ['null', 'string'], default: null }]);
    const ok = await runKes(['schemas', 'check', '--dir', compatible, '--format', 'csv'], { env });
    expect(ok.code).toBe(0);
    expect(ok.stdout.split('\n')[0]).toBe('file,type,subject,status,registered,compatibility,detail');
    expect(ok.stdout).toContain(`${join(compatible, 'Opened.avsc')},Opened,${namespace}.Opened,compatible,1,BACKWARD,`);

    const incompatible = dirWith(namespace, [
      { name: 'accountId', type: 'string' },
      { name: 'amount', type: 'string' },
    ]);
    const refused = await runKes(['schemas', 'check', '--dir', incompatible], { env });
    expect(refused.code).toBe(9);
    expect(refused.stdout).toContain(join(incompatible, 'Opened.avsc'));
    expect(refused.stdout).toContain('incompatible');
    expect(refused.stderr).toContain(
      `${join(incompatible, 'Opened.avsc')}: under BACKWARD: field 'amount': type changed from long (version 1) to string`,
    );

    const push = await runKes(['schemas', 'push', '--dir', incompatible], { env });
    expect(push.code).toBe(9);
    expect(push.stderr).toMatch(/Opened\.avsc: under BACKWARD: field 'amount'/);
    expect(await listSubjectVersions(env.SCHEMA_REGISTRY_URL as string, `${namespace}.Opened`)).toEqual([1]);
  });

  it('a bad schema file or a missing directory is one line naming it (exit 9)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kes-schemas-cli-'));
    writeFileSync(join(dir, 'Broken.avsc'), '{ "type": "record"');
    const broken = await runKes(['schemas', 'check', '--dir', dir], { env });
    expect(broken.code).toBe(9);
    expect(broken.stderr).toMatch(/^kes: .*Broken\.avsc: not JSON/);

    const missing = await runKes(['schemas', 'check', '--dir', join(dir, 'nope')], { env });
    expect(missing.code).toBe(9);
    expect(missing.stderr).toContain(join(dir, 'nope'));
  });
});
