// Import rules for kes (issue 11), checked by `npm run lint:deps` (part of `npm test`).
//
// Layers, top to bottom; a folder may import the ones below it, never the ones above:
//   cli/                          the commands; the one place that wires the core and the example together
//   lab/, dashboard/              the tradeoff lab's experiments and reports; the live dashboard page
//   bench/, example/              benchmarks; the bank example
//   verify/, devstack/            history and read-model checkers, load generator; the local stack
//   guard/, projectors/, index.ts the library (guard and projectors do not know each other)
//   pipeline/                     infrastructure shared by everything above
//   test/                         test setup and support, for test files only
//
// Test files (*.test.ts) may import test/ support and whatever they test, so most rules exempt them.

/** Test files, wherever they live. */
const TEST = '\\.test\\.ts$';
/** The library: what the package exports (index.ts) and everything it is built from. */
const LIBRARY = '^(pipeline|guard|projectors)/|^(index|client)\\.ts$';

module.exports = {
  forbidden: [
    {
      name: 'library-not-to-app',
      comment:
        'The library (pipeline/, guard/, projectors/, index.ts) is what the package exports; it must not depend on ' +
        'the commands, the checkers, the local stack, the example, the benchmarks or test support, or using the ' +
        'library would drag them in.',
      severity: 'error',
      from: { path: LIBRARY, pathNot: TEST },
      to: { path: '^(cli|verify|devstack|example|bench|test)/' },
    },
    {
      name: 'pipeline-not-to-guard-or-projectors',
      comment:
        'pipeline/ is the infrastructure under the guard and the projectors; it knows neither of them, not even in ' +
        'its tests (none needs to).',
      severity: 'error',
      from: { path: '^pipeline/' },
      to: { path: '^(guard|projectors)/' },
    },
    {
      name: 'guard-and-projectors-apart',
      comment:
        'The guard (the write side) and the projectors (the read side) are independent: neither imports the other; ' +
        'what they share lives in pipeline/. Test files are exempt: an end-to-end test of one side may drive the ' +
        'other (the projector integration tests write their events through a guard).',
      severity: 'error',
      from: { path: '^(guard|projectors)/', pathNot: TEST },
      to: { path: '^(guard|projectors)/', pathNot: '^$1/' },
    },
    {
      name: 'verify-devstack-not-up',
      comment:
        'The checkers, the load generator (verify/) and the local stack (devstack/) work for any application on the ' +
        'library; they must not depend on the bank example, the benchmarks or the commands.',
      severity: 'error',
      from: { path: '^(verify|devstack)/', pathNot: TEST },
      to: { path: '^(example|bench|cli)/' },
    },
    {
      name: 'example-not-up',
      comment:
        'The example is an application of the library; the benchmarks and the commands use it, not the other way.',
      severity: 'error',
      from: { path: '^example/', pathNot: TEST },
      to: { path: '^(bench|cli)/' },
    },
    {
      name: 'lab-and-dashboard-from-above-only',
      comment:
        'The lab and the dashboard measure and show everything below them (library, checkers, stack, example, ' +
        'benchmarks); nothing below may depend on them, only the commands and the tests (test/ included).',
      severity: 'error',
      from: { pathNot: `^(cli|bin|lab|dashboard|test)/|${TEST}` },
      to: { path: '^(lab|dashboard)/' },
    },
    {
      name: 'bench-not-to-cli',
      comment: 'Benchmarks drive the library and the example directly, not through the command layer.',
      severity: 'error',
      from: { path: '^bench/', pathNot: TEST },
      to: { path: '^cli/' },
    },
    {
      name: 'only-bin-and-tests-to-cli',
      comment:
        'cli/ is the top: it wires the core and the example together, and only bin/kes.js (and tests) may import it.',
      severity: 'error',
      from: { pathNot: `^(cli|bin)/|${TEST}` },
      to: { path: '^cli/' },
    },
    {
      name: 'only-tests-to-test-support',
      comment: 'test/ holds test setup and support; shipped code must not import it (test files may).',
      severity: 'error',
      from: { pathNot: `^test/|${TEST}` },
      to: { path: '^test/' },
    },
    {
      name: 'no-cycles-between-folders',
      comment:
        'A cycle that leaves its top-level folder and comes back means two folders depend on each other, so neither ' +
        'is a layer above the other. Cycles inside one folder are reported by no-circular below.',
      severity: 'error',
      from: { path: '^([^/]+)/' },
      to: { circular: true, via: { pathNot: '^$1/' } },
    },
    {
      name: 'no-circular',
      comment:
        'Module-level cycles that exist at run time: every import in the cycle loads code, so the modules evaluate ' +
        'half-initialised in some order. Kept apart from the folder-level rule above so that each can be judged on ' +
        'its own.',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'no-circular-type-only',
      comment:
        'Module-level cycles inside one folder closed by a type-only import: erased on compile, so harmless at run ' +
        'time, but still two modules that know each other; shown as a warning (`npm test` passes) so that they ' +
        'are seen. Between folders they are errors (no-cycles-between-folders).',
      severity: 'warn',
      from: {},
      to: { circular: true, via: { dependencyTypes: ['type-only'] } },
    },
    {
      name: 'shipped-not-to-dev-dep',
      comment:
        'The library runs in applications that install kes without its devDependencies, and so do the kes commands ' +
        '(bin/kes.js runs dist/cli, which loads verify/, devstack/, example/ and bench/; tsconfig.build.json compiles ' +
        'all of them): everything but test/ and test files may only import packages from "dependencies". Type-only ' +
        'imports vanish on compile and are allowed.',
      severity: 'error',
      from: { pathNot: `^test/|${TEST}|^vitest\\.config\\.ts$` },
      to: {
        dependencyTypes: ['npm-dev'],
        dependencyTypesNot: ['type-only'],
        pathNot: ['node_modules/@types/'],
      },
    },
    {
      name: 'client-stays-light',
      comment:
        'The typed clients (client.ts, the `kes/client` entry point, and guard/client/) run in services that only ' +
        'talk to a guard over HTTP: importing them must not load the embedded ClickHouse, Kafka, Redis or the HTTP ' +
        'server, not even through a type-only import of a module that does (client.unit.test.ts packs kes and ' +
        'imports kes/client in a bare project to prove it at run time).',
      severity: 'error',
      from: { path: '^(client\\.ts$|guard/client/)', pathNot: TEST },
      to: { path: 'node_modules/(chdb|kafkajs|fastify|ioredis)/', reachable: true },
    },
    {
      name: 'not-to-unresolvable',
      comment:
        'An import that cannot be resolved would hide a dependency from every rule above. bin/kes.js imports the ' +
        'compiled dist/cli/main.js, which exists only after a build.',
      severity: 'error',
      from: { pathNot: '^bin/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: ['node_modules'] },
    exclude: { path: ['^(dist|\\.kes|scratch)/'] },
    // Type-only imports couple modules too; count them.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
