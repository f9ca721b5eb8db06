import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The import rules in .dependency-cruiser.cjs (run on the real tree by `npm run lint:deps`) are proved to bite on a
// small fixture tree: each file below breaks one rule, or shows an exemption.
const CONFIG = resolve(dirname(fileURLToPath(import.meta.url)), '..', '.dependency-cruiser.cjs');

const FIXTURE: Record<string, string> = {
  'package.json': JSON.stringify({
    name: 'fixture',
    dependencies: { runpkg: '1', kafkajs: '1' },
    devDependencies: { devpkg: '1' },
  }),
  'node_modules/runpkg/package.json': JSON.stringify({ name: 'runpkg', main: 'index.js' }),
  'node_modules/runpkg/index.js': 'export const run = 1;\n',
  'node_modules/kafkajs/package.json': JSON.stringify({ name: 'kafkajs', main: 'index.js' }),
  'node_modules/kafkajs/index.js': 'export const kafka = 1;\n',
  'node_modules/devpkg/package.json': JSON.stringify({ name: 'devpkg', main: 'index.js' }),
  'node_modules/devpkg/index.js': 'export const dev = 1;\n',
  // Allowed: the layers import downwards, and the library imports runtime dependencies.
  'index.ts': "export { g } from './guard/g.js';\nexport { p } from './projectors/p.js';\n",
  'pipeline/base.ts': "import { run } from 'runpkg';\nexport const base = run;\n",
  'guard/g.ts': "import { base } from '../pipeline/base.js';\nexport const g = base;\n",
  'projectors/p.ts': "import { base } from '../pipeline/base.js';\nexport const p = base;\n",
  // Broken rules.
  'pipeline/up.ts': "import { g } from '../guard/g.js';\nexport const up = g;\n",
  'guard/toProjectors.ts': "import { p } from '../projectors/p.js';\nexport const x = p;\n",
  'projectors/toGuard.ts': "import { g } from '../guard/g.js';\nexport const x = g;\n",
  'guard/dev.ts': "import { dev } from 'devpkg';\nexport const d = dev;\n",
  'projectors/toExample.ts': "import { e } from '../example/e.js';\nexport const x = e;\n",
  'example/e.ts': "import { c } from '../cli/c.js';\nexport const e = c;\n",
  'cli/c.ts': "import { g } from '../guard/g.js';\nexport const c = g;\n",
  'verify/v.ts': "import { s } from '../devstack/s.js';\nexport const v = 1;\nexport const vs = s;\n",
  'devstack/s.ts': "import { v } from '../verify/v.js';\nexport const s = v;\n",
  'pipeline/c1.ts': "import { c2 } from './c2.js';\nexport const c1 = 1;\nexport const x = c2;\n",
  'pipeline/c2.ts': "import { c1 } from './c1.js';\nexport const c2 = c1;\n",
  'example/t1.ts': "import type { T2 } from './t2.js';\nexport const t1 = 1;\nexport type T1 = T2;\n",
  'example/t2.ts': "import { t1 } from './t1.js';\nexport type T2 = typeof t1;\n",
  'pipeline/kafka.ts': "import { kafka } from 'kafkajs';\nexport const k = kafka;\n",
  'guard/client/c.ts': "import { k } from '../../pipeline/kafka.js';\nexport const c = k;\n",
  'devstack/support.ts': "import { t } from '../test/support/t.js';\nexport const x = t;\n",
  'test/support/t.ts': "import { dev } from 'devpkg';\nexport const t = dev;\n",
  // The lab measures the layers below it; none of them may lean on it (test support may).
  'lab/l.ts': "import { base } from '../pipeline/base.js';\nexport const l = base;\n",
  'example/toLab.ts': "import { l } from '../lab/l.js';\nexport const x = l;\n",
  'test/support/lab.ts': "import { l } from '../../lab/l.js';\nexport const x = l;\n",
  // Exempt: test files may import test support, the layer above and devDependencies.
  'guard/g.unit.test.ts':
    "import { p } from '../projectors/p.js';\nimport { t } from '../test/support/t.js';\nimport { c } from '../cli/c.js';\nimport { dev } from 'devpkg';\nexport const x = [p, t, c, dev];\n",
};

let root: string;
let violations: string[];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'kes-import-rules-'));
  for (const [path, text] of Object.entries(FIXTURE)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  const options = await extractDepcruiseOptions(CONFIG);
  // The real tree's tsconfig.json is not the fixture's; the resolver maps the .js specifiers to .ts without it.
  delete options.tsConfig;
  const result = await cruise(['.'], { ...options, baseDir: root });
  if (typeof result.output === 'string') throw new Error('expected a cruise result, not a report');
  violations = result.output.summary.violations
    .map((v) => `${v.rule.name}: ${v.from} -> ${v.to}${v.rule.severity === 'error' ? '' : ` (${v.rule.severity})`}`)
    .sort();
}, 30_000);

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('the import rules', () => {
  it('flag every broken rule in the fixture and nothing else', () => {
    expect(violations).toEqual(
      [
        'pipeline-not-to-guard-or-projectors: pipeline/up.ts -> guard/g.ts',
        'guard-and-projectors-apart: guard/toProjectors.ts -> projectors/p.ts',
        'guard-and-projectors-apart: projectors/toGuard.ts -> guard/g.ts',
        'shipped-not-to-dev-dep: guard/dev.ts -> node_modules/devpkg/index.js',
        'library-not-to-app: projectors/toExample.ts -> example/e.ts',
        'example-not-up: example/e.ts -> cli/c.ts',
        'only-bin-and-tests-to-cli: example/e.ts -> cli/c.ts',
        'only-tests-to-test-support: devstack/support.ts -> test/support/t.ts',
        'lab-and-dashboard-from-above-only: example/toLab.ts -> lab/l.ts',
        // The typed clients reach Kafka through another module.
        'client-stays-light: guard/client/c.ts -> node_modules/kafkajs/index.js',
        // A cycle is reported once, at the first module of it that the cruise meets.
        'no-cycles-between-folders: devstack/s.ts -> verify/v.ts',
        'no-circular: devstack/s.ts -> verify/v.ts',
        // A cycle inside one folder breaks only the module-level rule.
        'no-circular: pipeline/c1.ts -> pipeline/c2.ts',
        // One closed by a type-only import is only a warning.
        'no-circular-type-only: example/t1.ts -> example/t2.ts (warn)',
      ].sort(),
    );
  });
});
