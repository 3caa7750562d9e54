import type { Command } from 'commander';
import type { Analysis } from '../../analysis/report/analyze.js';
import { analyzeRuns } from '../../experiments/reports.js';
import { analyzeTrained, reportTrained } from './analyze-trained.js';

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

/** `rdarts analyze` — λ_max vs validation error and discretisation drop across runs (docs/methods.md#cross-run-analyses). */
export function register(program: Command): void {
  program
    .command('analyze')
    .description('per-run λ_max (mean/final), validation error and discretisation drop, with Pearson/Spearman correlations across runs')
    .argument('<run-dir...>', 'run folders written by `rdarts search` (a grid folder stands for its searches)')
    .option('--json', 'print the analysis as JSON')
    .option('--trained <dir...>', '`rdarts train`/`select` folders: also correlate with the test error of the retrained cells')
    .option('--plots <dir>', 'with --trained: write the scatter plots (SVG) into <dir>')
    .action(async (dirs: string[], opts: { json?: boolean; trained?: string[]; plots?: string }) => {
      const a = analyzeRuns(dirs);
      const t = opts.trained ? analyzeTrained(a, opts.trained) : null;
      if (opts.json) {
        process.stdout.write(JSON.stringify(t ? { ...a, testError: t } : a, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)) + '\n');
        return;
      }
      process.stdout.write(formatAnalysis(a));
      if (t) await reportTrained(t, opts.plots);
      for (const w of a.warnings) process.stderr.write(`warning: ${w}\n`);
    });
}
