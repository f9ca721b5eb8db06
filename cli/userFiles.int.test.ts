import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../test/support/freePort.js';
import { testGuardConfig } from '../test/support/guard.js';
import { projectorEnv, testProjectorSettings } from '../test/support/projector.js';
import { runKes } from '../test/support/runKes.js';

const dir = mkdtempSync(join(tmpdir(), 'kes-user-files-'));
// Files outside the package reach the library through its built entry point, as a user's project reaches `kes`.
const KES = pathToFileURL(resolve('dist/index.js')).href;

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** A projections file with one table projection `moves` whose table is created by `createTable`. */
const projectionFile = (name: string, engine: string) =>
  file(
    name,
    `import { tableProjection } from '${KES}';
export const projections = [tableProjection({
  name: 'moves', description: 'test', table: 'moves',
  createTable: (t) => \`CREATE TABLE IF NOT EXISTS \${t} (stream String, version UInt64, sku String) ENGINE = ${engine}\`,
  row: (e) => ({ sku: e.stream }),
})];`,
  );

/**
 * Module and projection files as users write them wrong: each refused before anything starts, exit 2, with one
 * line naming the flag, the file, the entry and the field. And a projection table that would count a replayed
 * batch twice, refused at start against its real DDL in ClickHouse.
 */
describe('user module and projection files', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const guard = async (modulesFile: string) =>
    runKes(['guard', '--port', String(await freePort()), '--modules', modulesFile], { timeoutMs: 60_000 });

  it('kes guard --modules: a missing file, a missing export, a wrong shape, a TypeScript file', async () => {
    const missing = await guard(join(dir, 'none.js'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`--modules ${join(dir, 'none.js')}: no such file`);

    const noExport = await guard(file('noExport.mjs', 'export const handlers = [];\n'));
    expect(noExport.code).toBe(2);
    expect(noExport.stderr).toMatch(
      /noExport\.mjs: exports no 'modules' \(it exports handlers\); it must export `modules`/,
    );

    const notArray = await guard(file('notArray.mjs', 'export const modules = { category: "stock" };\n'));
    expect(notArray.code).toBe(2);
    expect(notArray.stderr).toContain('notArray.mjs: modules must be an array of decider modules, got an object');

    const noDecide = await guard(
      file(
        'noDecide.mjs',
        `export const modules = [{ category: 'stock', service: 'w', stateVersion: 1,
          commands: { receive: { safeParse: () => ({ success: true }) } }, initialState: () => 0, evolve: (s) => s }];\n`,
      ),
    );
    expect(noDecide.code).toBe(2);
    expect(noDecide.stderr).toContain('noDecide.mjs: modules[0] (stock): decide must be a function, got undefined');

    const typescript = await guard(file('stock.ts', 'export const modules: unknown[] = [];\n'));
    expect(typescript.code).toBe(2);
    expect(typescript.stderr).toContain('could not be imported (a module file is compiled JavaScript');

    const throws = await guard(file('throws.mjs', 'throw new Error("boom at load");\n'));
    expect(throws.code).toBe(2);
    expect(throws.stderr).toContain('throws.mjs: could not be imported: boom at load');
    for (const run of [missing, noExport, notArray, noDecide, typescript, throws]) {
      expect(run.stdout).not.toContain('guard listening');
    }
  });

  it('kes project --projections: a missing export, a bad entry, a name kes uses', async () => {
    const env = projectorEnv(testProjectorSettings(testGuardConfig().config));
    const project = (f: string) => runKes(['project', '--port', '0', '--projections', f], { env, timeoutMs: 60_000 });
    const noExport = await project(file('p1.mjs', 'export const reports = [];\n'));
    expect(noExport.code).toBe(2);
    expect(noExport.stderr).toContain("p1.mjs: exports no 'projections' (it exports reports)");
    const badRow = await project(
      file(
        'p2.mjs',
        `export const projections = [{ name: 'm', description: '', sinkTable: 'm', createStatements() {}, dropStatements() {}, views() {} }];\n`,
      ),
    );
    expect(badRow.code).toBe(2);
    expect(badRow.stderr).toContain('p2.mjs: projections[0] (m): row must be a function, got undefined');
    const taken = await project(
      file(
        'p3.mjs',
        `import { tableProjection } from '${KES}';
export const projections = [tableProjection({ name: 'events', description: '', table: 'x', createTable: () => '', row: () => undefined })];\n`,
      ),
    );
    expect(taken.code).toBe(2);
    expect(taken.stderr).toContain("p3.mjs: projections[0]: the name 'events' is kes's own");
  });

  it("refuses a projection table that would double-count a replayed batch, judged on the table's real DDL", async () => {
    const env = projectorEnv(testProjectorSettings(testGuardConfig().config));
    const project = (f: string) => runKes(['project', '--port', '0', '--projections', f], { env, timeoutMs: 90_000 });

    const plain = await project(projectionFile('plain.mjs', 'MergeTree ORDER BY (stream, version)'));
    expect(plain.code, plain.stderr).toBe(2);
    expect(plain.stderr).toContain(`projection moves, table ${env.KES_CLICKHOUSE_DATABASE}.moves_v1:`);
    expect(plain.stderr).toContain('it is a MergeTree ordered by (stream, version), which keeps every copy');
    expect(plain.stdout).not.toContain('projector listening');

    // The file now says ReplacingMergeTree, but the table of that name is still the MergeTree created above
    // (CREATE TABLE IF NOT EXISTS keeps it): the check reads ClickHouse, not the file, and still refuses.
    const fixedFileOnly = await project(projectionFile('fixed.mjs', 'ReplacingMergeTree ORDER BY (stream, version)'));
    expect(fixedFileOnly.code).toBe(2);
    expect(fixedFileOnly.stderr).toContain('it is a MergeTree ordered by (stream, version)');

    const env2 = projectorEnv(testProjectorSettings(testGuardConfig().config));
    const coarse = await runKes(
      ['project', '--port', '0', '--projections', projectionFile('coarse.mjs', 'ReplacingMergeTree ORDER BY (sku)')],
      { env: env2, timeoutMs: 90_000 },
    );
    expect(coarse.code).toBe(2);
    expect(coarse.stderr).toContain('it is a ReplacingMergeTree ordered by (sku), without stream and version');
  });
});
