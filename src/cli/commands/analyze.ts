import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { readRun } from '../../experiments/run-reader.js';
import { summarize } from '../../analysis/report/series.js';
import { pearson, spearman, type Correlation } from '../../analysis/stats.js';

/** One run's figures for the cross-run analysis (paper-spec §5.3). */
export interface AnalyzedRun {
  dir: string;
  name: string;
  method: string | null;
  l2: number | null;
  dropPath: number | null;
  meanEigenvalue: number | null;
  finalEigenvalue: number | null;
  finalValidError: number | null;
  /** discretisation drop (soft − one-hot validation accuracy) of the final supernet */
  drop: number | null;
}

export interface AnalyzedCorrelation {
  x: 'meanEigenvalue' | 'finalEigenvalue';
  y: 'finalValidError' | 'drop';
  n: number;
  pearson: Correlation;
  spearman: Correlation;
}

export interface Analysis {
  runs: AnalyzedRun[];
  correlations: AnalyzedCorrelation[];
  warnings: string[];
}

/** Run folders behind the arguments: a grid folder (grid.json) stands for its member runs. */
export function expandRunDirs(dirs: string[]): string[] {
  const out: string[] = [];
  for (const d of dirs) {
    const grid = join(resolve(d), 'grid.json');
    if (existsSync(grid)) {
      const g = JSON.parse(readFileSync(grid, 'utf8')) as { runs?: Array<{ dir: string }> };
      for (const r of g.runs ?? []) out.push(resolve(d, r.dir));
    } else {
      out.push(resolve(d));
    }
  }
  return out;
}

/**
 * Per-run λ_max (trajectory mean and final), final validation error of the search model and
 * discretisation drop, and the Pearson/Spearman correlations (two-sided p-values) of the
 * eigenvalue with the error and with the drop, over the runs that have both numbers.
 */
export function analyzeRuns(dirs: string[]): Analysis {
  if (dirs.length === 0) throw new ConfigError('analyze: no run folders given', 'pass run folders written by `rdarts search` (or grid folders)');
  const warnings: string[] = [];
  const runs: AnalyzedRun[] = expandRunDirs(dirs).map((d) => {
    const run = readRun(d);
    for (const w of run.warnings) warnings.push(`${run.name}: ${w}`);
    const s = summarize(run);
    const resultDrop = (run.result?.raw.discretization as { drop?: unknown } | undefined)?.drop;
    return {
      dir: run.dir,
      name: run.name,
      method: s.method,
      l2: s.l2,
      dropPath: s.dropPath,
      meanEigenvalue: s.meanEigenvalue,
      finalEigenvalue: s.finalEigenvalue,
      finalValidError: s.finalValidAcc !== null ? 1 - s.finalValidAcc : null,
      drop: s.finalDrop ?? (typeof resultDrop === 'number' ? resultDrop : null),
    };
  });
  const correlations: AnalyzedCorrelation[] = [];
  for (const y of ['finalValidError', 'drop'] as const) {
    for (const x of ['meanEigenvalue', 'finalEigenvalue'] as const) {
      const pts = runs.filter((r) => r[x] !== null && r[y] !== null);
      if (pts.length < 2) continue;
      const xs = pts.map((r) => r[x]!);
      const ys = pts.map((r) => r[y]!);
      correlations.push({ x, y, n: pts.length, pearson: pearson(xs, ys), spearman: spearman(xs, ys) });
    }
  }
  return { runs, correlations, warnings };
}

const f = (v: number | null, digits = 4): string => (v === null || !Number.isFinite(v) ? '—' : v.toPrecision(digits));
const pct = (v: number | null): string => (v === null ? '—' : (100 * v).toFixed(2));

function formatAnalysis(a: Analysis): string {
  const header = ['run', 'method', 'L2', 'DP', 'mean λ_max', 'final λ_max', 'valid err %', 'drop (pts)'];
  const rows = a.runs.map((r) => [r.name, r.method ?? '—', f(r.l2, 3), f(r.dropPath, 3), f(r.meanEigenvalue), f(r.finalEigenvalue), pct(r.finalValidError), pct(r.drop)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const out = [line(header), ...rows.map(line), ''];
  if (a.correlations.length === 0) {
    out.push('correlations: need at least two runs with λ_max (run with --hessian-every > 0) and the other quantity');
  } else {
    out.push('correlations (two-sided p; n < 3 gives no p-value):');
    for (const c of a.correlations) {
      const x = c.x === 'meanEigenvalue' ? 'mean λ_max' : 'final λ_max';
      const y = c.y === 'finalValidError' ? 'validation error' : 'discretisation drop';
      out.push(`  ${x} vs ${y} (n=${c.n}): Pearson r=${f(c.pearson.r, 3)} p=${f(c.pearson.p, 3)}; Spearman ρ=${f(c.spearman.r, 3)} p=${f(c.spearman.p, 3)}`);
    }
  }
  out.push('(error: the search model\'s final validation error; the paper correlates with the test error of the retrained architecture)');
  return out.join('\n') + '\n';
}

/** `rdarts analyze` — λ_max vs validation error and discretisation drop across runs (§5.3). */
export function register(program: Command): void {
  program
    .command('analyze')
    .description('per-run λ_max (mean/final), validation error and discretisation drop, with Pearson/Spearman correlations across runs')
    .argument('<run-dir...>', 'run folders written by `rdarts search` (a grid folder stands for its searches)')
    .option('--json', 'print the analysis as JSON')
    .action((dirs: string[], opts: { json?: boolean }) => {
      const a = analyzeRuns(dirs);
      if (opts.json) {
        process.stdout.write(JSON.stringify(a, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)) + '\n');
        return;
      }
      process.stdout.write(formatAnalysis(a));
      for (const w of a.warnings) process.stderr.write(`warning: ${w}\n`);
    });
}
