// The layering of docs/README "Code layout", enforced by `npm run lint` (and so by CI). No exceptions:
// a rule that needs one means code sits in the wrong tier.
//   cli → workflows → capabilities → canary → vault | targetdb | config → db → lib → domain
const CAPABILITIES = 'accesslog|alerts|demo|exports|ingest|ledger|pool|realism|report|scan|seed|trace|triage|watch';
const TIERS = [
  { name: 'domain', path: '^src/domain/', mayUse: ['^src/domain/'] },
  { name: 'lib', path: '^src/lib/', mayUse: ['^src/domain/', '^src/lib/'] },
  { name: 'db', path: '^src/db/', mayUse: ['^src/domain/', '^src/lib/', '^src/db/'] },
  { name: 'stores', path: '^src/(vault|targetdb|config)/', mayUse: ['^src/domain/', '^src/lib/', '^src/db/', '^src/$1/'] },
  { name: 'canary', path: '^src/canary/', mayUse: ['^src/domain/', '^src/lib/', '^src/db/', '^src/(vault|targetdb|config)/', '^src/canary/'] },
  {
    name: 'capabilities',
    path: `^src/(${CAPABILITIES})/`,
    mayUse: ['^src/domain/', '^src/lib/', '^src/db/', '^src/(vault|targetdb|config)/', '^src/canary/', '^src/$1/'],
  },
  {
    name: 'workflows',
    path: '^src/workflows/',
    mayUse: ['^src/domain/', '^src/lib/', '^src/db/', '^src/(vault|targetdb|config)/', '^src/canary/', `^src/(${CAPABILITIES})/`, '^src/workflows/'],
  },
];

module.exports = {
  forbidden: [
    ...TIERS.map((tier) => ({
      name: `tier-${tier.name}`,
      comment: `${tier.name} may import only: ${tier.mayUse.join(' ') || 'nothing of src'}`,
      severity: 'error',
      from: { path: tier.path },
      to: { path: '^src/', pathNot: tier.mayUse.length ? tier.mayUse : undefined },
    })),
    {
      name: 'only-cli-opens-databases',
      comment: 'Opening a database (src/db/open.ts) is the CLI\'s job; everything else takes a handle.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/cli/', '^src/db/'] },
      to: { path: '^src/db/open\\.ts$' },
    },
    {
      name: 'backend-branches-only-in-db',
      comment: 'PGlite, pg and mysql2 differ only inside src/db.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/db/'] },
      to: { dependencyTypes: ['npm'], path: '(^|/)node_modules/(@electric-sql/pglite|pg|pg-copy-streams|mysql2)/' },
    },
    {
      name: 'src-never-imports-tests',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    { name: 'not-to-unresolvable', severity: 'error', from: {}, to: { couldNotResolve: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
