/**
 * The layer rules of robust-darts, checked by test/layers.test.ts (part of `npm test` and
 * scripts/test.sh) and by hand with `npx depcruise --config .dependency-cruiser.cjs src`.
 *
 * Bottom to top: torch → data → nas → search → analysis → experiments → cli.
 * Each layer may import the layers named in its rule and the shared modules
 * (src/errors.ts, src/version.ts, src/util/*); nothing else of ours.
 * `search` uses the pure parts of `analysis` (Hessian, Lanczos, eigensolvers) for its
 * Hessian monitor, so `analysis` in turn may not import `search`.
 * `search` and `analysis` open no files: no node:fs, no src/util/fs.ts.
 * No import cycles anywhere in src/ (static, dynamic and type-only imports all count).
 */

/** Modules every layer may use. */
const SHARED = ['^src/errors\\.ts$', '^src/version\\.ts$', '^src/util/'];

/** A rule: files under src/<layer>/ import nothing of ours outside `allowed` (and SHARED). */
function layer(name, allowed, comment) {
  const own = [name, ...allowed].map((l) => `^src/${l}/`);
  return {
    name: `layer-${name}`,
    comment,
    severity: 'error',
    from: { path: `^src/${name}/` },
    to: { path: '^src/', pathNot: [...own, ...SHARED] },
  };
}

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'no import cycles in src/ (break them by moving the shared piece down a layer)',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'shared-is-leaf',
      comment: 'errors, version and util are used by every layer, so they import no layer',
      severity: 'error',
      from: { path: SHARED },
      to: { path: '^src/', pathNot: SHARED },
    },
    layer('torch', [], 'torch knows nothing of NAS: tensors, autograd, modules, optimisers, safetensors I/O'),
    layer('data', ['torch'], 'data knows nothing of models: readers, transforms, loaders'),
    layer('nas', ['torch'], 'nas knows nothing of data (DATASET_SHAPES belongs to data) or training loops'),
    layer('search', ['torch', 'data', 'nas', 'analysis'], 'search: the trainer and the methods; uses pure analysis (Hessian, Lanczos); no runs, no CLI'),
    layer('analysis', ['torch', 'nas'], 'analysis is pure: Hessian, eigensolvers, statistics, plots, reports from typed records; no training, no data, no runs'),
    layer('experiments', ['torch', 'data', 'nas', 'search', 'analysis'], 'experiments: run folders, their format, checkpoints, grids; everything below, not the CLI'),
    {
      name: 'no-files-in-search-analysis',
      comment: 'search and analysis open no files: they talk to a recorder / take typed records (experiments does the I/O)',
      severity: 'error',
      from: { path: '^src/(search|analysis)/' },
      to: { dependencyTypes: ['core'], path: '^(node:)?fs(/promises)?$' },
    },
    {
      name: 'no-util-fs-in-search-analysis',
      comment: 'src/util/fs.ts is file I/O: not for search or analysis',
      severity: 'error',
      from: { path: '^src/(search|analysis)/' },
      to: { path: '^src/util/fs\\.ts$' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'every import resolves (a typo would otherwise hide a dependency from the rules above)',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist)/' },
    // type-only imports are knowledge of a layer too
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // packages resolve through their "exports" (the .js specifiers of src/ resolve to the
    // .ts sources by dependency-cruiser's own TypeScript support)
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
};
