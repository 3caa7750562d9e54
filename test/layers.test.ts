/**
 * The layer rules (.dependency-cruiser.cjs) hold on src/, and each rule really bites: a small tree
 * with one wrong import per rule is cruised with the same config and every planted import is
 * reported (and nothing else). dependency-cruiser runs through its CLI with JSON output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { repoRoot } from './helpers/fixtures.js';
import { tempDir } from './helpers/tmp.js';

const DEPCRUISE = join(repoRoot, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const CONFIG = join(repoRoot, '.dependency-cruiser.cjs');

interface Violation {
  from: string;
  to: string;
  rule: { name: string; severity: string };
  cycle?: Array<{ name: string } | string>;
}
interface Cruise {
  modules: Array<{ source: string; dependencies: Array<{ resolved: string; couldNotResolve: boolean }> }>;
  summary: { violations: Violation[]; totalCruised: number };
}

/** Cruise `src` of the folder `cwd` with the project's config (its tsConfig is `cwd`/tsconfig.json). */
function cruise(cwd: string): Cruise {
  const r = spawnSync(process.execPath, [DEPCRUISE, '--config', CONFIG, '--output-type', 'json', 'src'], { cwd, encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.error) throw r.error;
  // the exit status is the number of errors found; the JSON on stdout says which
  if (!r.stdout.trim()) throw new Error(`dependency-cruiser printed nothing (exit ${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Cruise;
}

/** "rule: from → to", with the whole loop for a cycle. */
function show(v: Violation): string {
  const loop = v.cycle?.length ? ` (cycle ${[v.from, ...v.cycle.map((c) => (typeof c === 'string' ? c : c.name))].join(' → ')})` : '';
  return `${v.rule.name}: ${v.from} → ${v.to}${loop}`;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

test('src/ keeps the layer rules of .dependency-cruiser.cjs: no violations, no cycles', () => {
  const result = cruise(repoRoot);
  // the cruise saw every source file and resolved the .js specifiers to the .ts sources
  const seen = new Set(result.modules.map((m) => m.source));
  const missing = tsFiles(join(repoRoot, 'src')).map((f) => relative(repoRoot, f)).filter((f) => !seen.has(f));
  assert.deepEqual(missing, [], 'files dependency-cruiser did not reach');
  const main = result.modules.find((m) => m.source === 'src/cli/main.ts');
  assert.ok(main && main.dependencies.some((d) => /^src\/.+\.ts$/.test(d.resolved)), 'src/cli/main.ts resolves to .ts sources');

  const violations = result.summary.violations.map(show);
  assert.equal(violations.length, 0, `${violations.length} layer violation(s):\n  ${violations.join('\n  ')}`);
});

/** One file per line of the planted tree; each comment names the rule it breaks (or "ok"). */
const PLANTED: Record<string, string> = {
  'src/errors.ts': 'export class RdartsError extends Error {}',
  'src/util/fs.ts': 'export const writeAtomic = 1;',
  'src/util/uses-torch.ts': "import { t } from '../torch/t.js'; export const u = t; // shared-is-leaf",
  'src/torch/t.ts': "import { RdartsError } from '../errors.js'; export const t = RdartsError; // ok: shared",
  'src/torch/up.ts': "import { n } from '../nas/n.js'; export const up = n; // layer-torch",
  'src/data/d.ts': "import { t } from '../torch/t.js'; export const d = t; // ok",
  'src/data/up.ts': "import { n } from '../nas/n.js'; export const up = n; // layer-data",
  'src/nas/n.ts': "import { t } from '../torch/t.js'; export const n = t; // ok",
  'src/nas/shapes.ts': "import type { d } from '../data/d.js'; export type Shapes = typeof d; // layer-nas (a type-only import counts)",
  'src/nas/typo.ts': "import { z } from './nope.js'; export const y = z; // not-to-unresolvable",
  'src/analysis/a.ts': "import { n } from '../nas/n.js'; import { t } from '../torch/t.js'; import { join } from 'node:path'; export const a = [n, t, join]; // ok",
  'src/analysis/bad.ts': "import { x } from '../experiments/x.js'; import { s } from '../search/s.js'; import { readFile } from 'node:fs/promises'; export const bad = [x, s, readFile]; // layer-analysis ×2, no-files",
  'src/search/s.ts': "import { n } from '../nas/n.js'; import { d } from '../data/d.js'; import { a } from '../analysis/a.js'; export const s = [n, d, a]; // ok",
  'src/search/runs.ts': "import { x } from '../experiments/x.js'; import { readFileSync } from 'node:fs'; import { writeAtomic } from '../util/fs.js'; export const r = [x, readFileSync, writeAtomic]; // layer-search, no-files, no-util-fs",
  'src/experiments/x.ts': "import { s } from '../search/s.js'; import { readFileSync } from 'node:fs'; import { writeAtomic } from '../util/fs.js'; export const x = [s, readFileSync, writeAtomic]; // ok",
  'src/experiments/uses-cli.ts': "import { c } from '../cli/c.js'; export const e = c; // layer-experiments",
  'src/experiments/grid.ts': "import { run } from './run.js'; export const grid = () => run; // no-circular, the loop hidden behind await import",
  'src/experiments/run.ts': "export async function run(): Promise<unknown> { return (await import('./grid.js')).grid; }",
  'src/cli/c.ts': "import { x } from '../experiments/x.js'; import { a } from '../analysis/a.js'; import { t } from '../torch/t.js'; export const c = [x, a, t]; // ok",
};

test('each rule bites: a planted tree with one wrong import per rule reports exactly those imports', () => {
  const tmp = tempDir('layers');
  try {
    for (const [path, text] of Object.entries(PLANTED)) {
      mkdirSync(dirname(join(tmp.path, path)), { recursive: true });
      writeFileSync(join(tmp.path, path), text + '\n');
    }
    writeFileSync(join(tmp.path, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }));
    const got = cruise(tmp.path).summary.violations.map(show).sort();
    assert.deepEqual(got, [
      'layer-analysis: src/analysis/bad.ts → src/experiments/x.ts',
      'layer-analysis: src/analysis/bad.ts → src/search/s.ts',
      'layer-data: src/data/up.ts → src/nas/n.ts',
      'layer-experiments: src/experiments/uses-cli.ts → src/cli/c.ts',
      'layer-nas: src/nas/shapes.ts → src/data/d.ts',
      'layer-search: src/search/runs.ts → src/experiments/x.ts',
      'layer-torch: src/torch/up.ts → src/nas/n.ts',
      'no-circular: src/experiments/grid.ts → src/experiments/run.ts (cycle src/experiments/grid.ts → src/experiments/run.ts → src/experiments/grid.ts)',
      'no-files-in-search-analysis: src/analysis/bad.ts → fs/promises',
      'no-files-in-search-analysis: src/search/runs.ts → fs',
      'no-util-fs-in-search-analysis: src/search/runs.ts → src/util/fs.ts',
      'not-to-unresolvable: src/nas/typo.ts → ./nope.js',
      'shared-is-leaf: src/util/uses-torch.ts → src/torch/t.ts',
    ]);
  } finally {
    tmp.cleanup();
  }
});
