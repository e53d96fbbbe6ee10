/**
 * The shape of the house (STYLE.md), checked by `npm run check:shape` as part of `npm test`:
 * no import cycles in src/, the core points inward only, and shipped code never imports the tests.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'An import cycle in src/ (type-only imports count: they couple the modules all the same).',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'core-points-inward',
      comment: 'src/core knows nothing of config, adapters, HTTP or the composition root: they import the core.',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { path: ['^src/(config|adapters|http)/', '^src/[^/]+\\.ts$'] },
    },
    {
      name: 'core-no-node-modules',
      comment: 'src/core does no I/O: no node: built-ins.',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'core-no-packages',
      comment: 'src/core uses no npm package but zod (validation at the edge of a feature).',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'], pathNot: '^node_modules/zod/' },
    },
    {
      name: 'features-not-each-others-services',
      comment:
        "A feature folder of src/core never imports another feature's service (its `*-service.ts`, the chain, the rollout observer, the commit tracker): where one needs another, it names the narrow interface it needs and the composition root wires the other in.",
      severity: 'error',
      from: { path: '^src/core/([^/]+)/' },
      to: { path: '^src/core/[^/]+/([^/]+-service|promotion-chain|rollout-observer|commit-tracker)\\.ts$', pathNot: '^src/core/$1/' },
    },
    {
      name: 'shipped-code-not-tests',
      comment: 'src/, sandbox/ and bench/ ship or run outside the tests: they import nothing from test/.',
      severity: 'error',
      from: { path: '^(src|sandbox|bench|emulators)/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js', '.mjs', '.json'] },
  },
};
