import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressesToEnv } from '../../devstack/types.js';
import { freePort } from '../../test/support/freePort.js';
import { API_KEY, testGuardConfig } from '../../test/support/guard.js';
import { KesProcess } from '../../test/support/kesProcess.js';
import { projectorEnv, testProjectorSettings } from '../../test/support/projector.js';
import { runKes } from '../../test/support/runKes.js';
import { stack } from '../../test/support/stack.js';
import { waitFor } from '../../test/support/waitFor.js';

// The tutorial's own files, compiled by `npm run build`, loaded by the real commands as a user would load theirs.
const MODULES = resolve('dist/example/tutorial/stock.js');
const PROJECTIONS = resolve('dist/example/tutorial/stockProjection.js');
const SCHEMAS = resolve('example/tutorial/schemas');

interface OnHand {
  sku: string;
  on_hand: number;
  moves: number;
}

/**
 * docs/tutorial.md, step by step, against the real stack: the tutorial's schemas, its decider module hosted by
 * `kes guard --modules`, its projection run by `kes project --projections`, its report read by `kes report`, and
 * `kes projections rebuild` of the user projection while the projector keeps running.
 */
describe('the tutorial: a stock service on kes', () => {
  const setup = testGuardConfig({ KES_SCHEMAS_DIR: SCHEMAS });
  let guardEnv: Record<string, string | undefined>;
  let projEnv: Record<string, string | undefined>;
  let guardUrl: string;
  const processes: KesProcess[] = [];
  const home = mkdtempSync(join(tmpdir(), 'kes-tutorial-'));

  beforeAll(async () => {
    guardEnv = {
      ...addressesToEnv(stack()),
      KES_HOME: home,
      KES_REDIS_PREFIX: `${setup.namespace}:`,
      KES_TOPIC_PREFIX: setup.topicPrefix,
      KES_SCHEMAS_DIR: SCHEMAS,
    };
    projEnv = { ...projectorEnv(testProjectorSettings(setup.config)), KES_HOME: home };
  });

  afterAll(async () => {
    for (const p of processes.reverse()) await p.stop().catch(() => {});
    rmSync(home, { recursive: true, force: true });
  });

  const command = async (sku: string, type: string, data: unknown) => {
    const response = await fetch(`${guardUrl}/commands/stock/${sku}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type, data }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  const onHand = async (): Promise<OnHand[]> => {
    const run = await runKes(['report', 'stock-on-hand', '--projections', PROJECTIONS, '--format', 'json'], {
      env: projEnv,
    });
    if (run.code !== 0) throw new Error(`kes report exited ${run.code}: ${run.stderr}`);
    return (JSON.parse(run.stdout) as OnHand[]).map((r) => ({
      ...r,
      on_hand: Number(r.on_hand),
      moves: Number(r.moves),
    }));
  };

  it('step 3: kes guard --modules hosts the decider; commands decide, a refusal is a 422', async () => {
    const port = await freePort();
    guardUrl = `http://127.0.0.1:${port}`;
    const guard = new KesProcess(
      'guard',
      ['guard', '--port', String(port), '--modules', MODULES],
      `${guardUrl}/health/ready`,
      guardEnv,
    );
    processes.push(guard);
    await guard.start({}, 90_000);

    expect((await command('sku-1', 'receive', { quantity: 10 })).status).toBe(200);
    expect((await command('sku-1', 'ship', { quantity: 3, order: 'o-1' })).status).toBe(200);
    const refused = await command('sku-1', 'ship', { quantity: 20, order: 'o-2' });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ error: 'command_rejected', code: 'insufficient_stock' });
    expect((await command('sku-2', 'receive', { quantity: 4 })).status).toBe(200);
    // A category no module owns is not served.
    const unknown = await fetch(`${guardUrl}/commands/account/a1`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'open', data: {} }),
    });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({
      error: 'unknown_category',
      message: expect.stringContaining("no module handles commands for 'account' (hosted: stock)"),
    });
  });

  it('steps 4 and 5: kes project --projections fills the table; kes report --projections reads it', async () => {
    const port = await freePort();
    const projector = new KesProcess(
      'projector',
      ['project', '--port', String(port), '--projections', PROJECTIONS],
      `http://127.0.0.1:${port}/health/ready`,
      projEnv,
    );
    processes.push(projector);
    await projector.start({}, 90_000);
    const expected = [
      { sku: 'sku-1', on_hand: 7, moves: 2 },
      { sku: 'sku-2', on_hand: 4, moves: 1 },
    ];
    await waitFor(
      'the report to show every move',
      async () => JSON.stringify(await onHand()) === JSON.stringify(expected),
      60_000,
      250,
    );
    expect(await onHand()).toEqual(expected);
    // The projector serves the file's report over HTTP as well.
    const overHttp = await fetch(`http://127.0.0.1:${port}/reports/stock-on-hand`);
    expect(overHttp.status).toBe(200);
    const body = (await overHttp.json()) as { rows: OnHand[] };
    expect(body.rows.map((r) => ({ ...r, on_hand: Number(r.on_hand), moves: Number(r.moves) }))).toEqual(expected);
  });

  it('kes projections rebuild stock-moves builds version 2 from offset 0 and swaps it in; the projector follows', async () => {
    const rebuild = await runKes(['projections', 'rebuild', 'stock-moves', '--projections', PROJECTIONS], {
      env: projEnv,
      timeoutMs: 120_000,
    });
    expect(rebuild.code, rebuild.stderr).toBe(0);
    expect(rebuild.stdout).toMatch(/rebuilt stock-moves: version 1 -> 2/);
    expect(await onHand()).toEqual([
      { sku: 'sku-1', on_hand: 7, moves: 2 },
      { sku: 'sku-2', on_hand: 4, moves: 1 },
    ]);
    // The running projector now writes version 2: a new move shows up in the swapped view.
    expect((await command('sku-2', 'ship', { quantity: 1, order: 'o-3' })).status).toBe(200);
    await waitFor(
      'the new move in version 2',
      async () => (await onHand()).find((r) => r.sku === 'sku-2')?.moves === 2,
      60_000,
      250,
    );
    expect((await onHand()).find((r) => r.sku === 'sku-2')).toEqual({ sku: 'sku-2', on_hand: 3, moves: 2 });
    const status = await runKes(['projections', 'status', '--projections', PROJECTIONS, '--format', 'json'], {
      env: projEnv,
    });
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toContainEqual(
      expect.objectContaining({ projection: 'stock-moves', version: 2 }),
    );
  });
});
