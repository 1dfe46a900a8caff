/*
 * The layer table of docs/architecture.md as import rules: a folder imports only the folders
 * listed for it, all of them below it. `npm test` runs this (npm run check:layers).
 */
const layers = {
  base: [],
  crdt: ['base'],
  ledger: ['base', 'crdt'],
  projections: ['base', 'crdt', 'ledger'],
  joiner: ['base', 'crdt', 'ledger', 'projections'],
  subscriptions: ['base', 'crdt', 'ledger', 'projections', 'joiner'],
  gateway: ['base', 'crdt', 'ledger', 'projections', 'joiner', 'subscriptions'],
  // Archives and rebuilds: the ledger's records and the projections' folds, nothing that serves.
  archive: ['base', 'crdt', 'ledger', 'projections'],
  // Adapters of engines run elsewhere (Redis, Kinesis, DynamoDB): the seams of ledger and projections, filled.
  backends: ['base', 'crdt', 'ledger', 'projections', 'joiner'],
  service: ['base', 'crdt', 'ledger', 'projections', 'joiner', 'subscriptions', 'gateway', 'archive', 'backends'],
  // A domain plug-in: code from base and crdt, only the definitions (types) of the rest (see below).
  retail: ['base', 'crdt', 'ledger', 'projections', 'joiner', 'subscriptions', 'gateway', 'service'],
  client: ['base', 'crdt', 'ledger', 'retail'],
  cli: ['base', 'crdt', 'ledger', 'projections', 'joiner', 'subscriptions', 'gateway', 'archive', 'backends', 'service', 'retail', 'client'],
  bench: ['base', 'crdt', 'ledger', 'projections', 'joiner', 'subscriptions', 'gateway', 'archive', 'backends', 'service', 'retail', 'client', 'cli'],
  test: Object.keys({ base: 0, crdt: 0, ledger: 0, projections: 0, joiner: 0, subscriptions: 0, gateway: 0, archive: 0, backends: 0, service: 0, retail: 0, client: 0, cli: 0, bench: 0 }),
};
const all = Object.keys(layers).join('|');

module.exports = {
  forbidden: [
    ...Object.entries(layers).map(([layer, allowed]) => ({
      name: `${layer}-imports-only-below`,
      comment: `${layer}/ may import only ${allowed.length ? allowed.join(', ') : 'packages'} (docs/architecture.md, "Layers")`,
      severity: 'error',
      from: { path: `^${layer}/` },
      to: { path: `^(${all})/`, pathNot: `^(${[layer, ...allowed].join('|')})/` },
    })),
    {
      name: 'retail-imports-engine-definitions-only',
      comment: 'a domain imports the engine\'s types (its definitions), never its code: the engine runs the domain, not the other way round',
      severity: 'error',
      from: { path: '^retail/' },
      to: { path: '^(ledger|projections|joiner|subscriptions|gateway|service)/', dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
