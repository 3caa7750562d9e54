/**
 * `rdarts analyze --trained`: the cross-run analysis against the test error of the retrained
 * cells (docs/methods.md#cross-run-analyses: mean dominant eigenvalue over the trajectory vs test error, Pearson,
 * the paper's 0.867 on S1/CIFAR-10; eigenvalue vs discretisation drop, Spearman, the paper's
 * 0.736), with two-sided p-values and the scatter plots. Pure: the Analysis of the search runs
 * and each search's retrained test error(s) in, figures out.
 */
import { fieldCorrelations, type Correlation } from './stats.js';
import { correlationScatterSpec, type ScatterPoint } from './plots/scatter.js';
import type { TopLevelSpec } from './plots/style.js';
import type { Analysis } from './report/analyze.js';

export interface RetrainedError {
  /** mean test error (fraction) over the trainings of this search's cell */
  testError: number;
  n: number;
  sources: string[];
}

export interface TestErrorRun {
  dir: string;
  name: string;
  meanEigenvalue: number | null;
  finalEigenvalue: number | null;
  drop: number | null;
  testError: number | null;
  trainings: number;
}

export interface TestErrorCorrelation {
  x: 'meanEigenvalue' | 'finalEigenvalue';
  y: 'testError' | 'drop';
  n: number;
  pearson: Correlation;
  spearman: Correlation;
}

export interface TestErrorAnalysis {
  runs: TestErrorRun[];
  correlations: TestErrorCorrelation[];
  /** search runs with no retrained cell (names) */
  unmatched: string[];
}

export function testErrorAnalysis(a: Analysis, retrained: Map<string, RetrainedError>): TestErrorAnalysis {
  const runs: TestErrorRun[] = a.runs.map((r) => {
    const t = retrained.get(r.dir) ?? null;
    return { dir: r.dir, name: r.name, meanEigenvalue: r.meanEigenvalue, finalEigenvalue: r.finalEigenvalue, drop: r.drop, testError: t?.testError ?? null, trainings: t?.n ?? 0 };
  });
  const correlations: TestErrorCorrelation[] = fieldCorrelations(runs, ['testError', 'drop'], ['meanEigenvalue', 'finalEigenvalue']);
  return { runs, correlations, unmatched: runs.filter((r) => r.testError === null).map((r) => r.name) };
}

/** Scatter specs: mean λ_max vs test error (%) and vs discretisation drop (points), each with its correlations. */
export function testErrorScatters(t: TestErrorAnalysis): Array<{ name: string; spec: TopLevelSpec }> {
  const out: Array<{ name: string; spec: TopLevelSpec }> = [];
  const pts = (y: 'testError' | 'drop'): ScatterPoint[] =>
    t.runs.filter((r) => r.meanEigenvalue !== null && r[y] !== null).map((r) => ({ x: r.meanEigenvalue!, y: 100 * r[y]!, label: r.name }));
  const err = pts('testError');
  if (err.length >= 2) out.push({ name: 'eigenvalue-vs-test-error', spec: correlationScatterSpec(err, { title: 'Mean λ_max vs test error of the retrained cell', xTitle: 'mean λ_max over the search', yTitle: 'test error (%)' }) });
  const drop = pts('drop');
  if (drop.length >= 2) out.push({ name: 'eigenvalue-vs-drop', spec: correlationScatterSpec(drop, { title: 'Mean λ_max vs accuracy drop after discretisation', xTitle: 'mean λ_max over the search', yTitle: 'drop (points)' }) });
  return out;
}

export function formatTestErrorAnalysis(t: TestErrorAnalysis): string {
  const f = (v: number | null, d = 4): string => (v === null || !Number.isFinite(v) ? '—' : v.toPrecision(d));
  const lines = ['', 'against the test error of the retrained cells:'];
  const header = ['run', 'mean λ_max', 'test err %', 'trainings'];
  const rows = t.runs.map((r) => [r.name, f(r.meanEigenvalue), r.testError === null ? '—' : (100 * r.testError).toFixed(2), String(r.trainings)]);
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (c: string[]): string => c.map((x, i) => x.padEnd(w[i]!)).join('  ').trimEnd();
  lines.push(line(header), ...rows.map(line));
  const tc = t.correlations.filter((c) => c.y === 'testError');
  if (!tc.length) lines.push('correlations with test error: need at least two search runs with λ_max and a retrained cell');
  for (const c of tc) {
    lines.push(`  ${c.x === 'meanEigenvalue' ? 'mean' : 'final'} λ_max vs test error (n=${c.n}): Pearson r=${f(c.pearson.r, 3)} p=${f(c.pearson.p, 3)}; Spearman ρ=${f(c.spearman.r, 3)} p=${f(c.spearman.p, 3)}`);
  }
  if (t.unmatched.length) lines.push(`no retrained cell for: ${t.unmatched.join(', ')}`);
  return lines.join('\n') + '\n';
}
