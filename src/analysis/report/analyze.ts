/**
 * The cross-run analysis of `rdarts analyze` (docs/methods.md#cross-run-analyses) from parsed runs: per run the
 * λ_max of the trajectory (mean and final), the search model's final validation error and the
 * discretisation drop; across runs the Pearson/Spearman correlations (two-sided p-values) of the
 * eigenvalue with the error and with the drop, over the runs that have both numbers. Pure.
 */
import { fieldCorrelations, type Correlation } from '../stats.js';
import type { Run } from './records.js';
import { summarize } from './series.js';

/** One run's figures for the cross-run analysis. */
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
  /** Each run's reading warnings, prefixed with its name. */
  warnings: string[];
}

export function analyzeRunRecords(records: Run[]): Analysis {
  const warnings: string[] = [];
  const runs: AnalyzedRun[] = records.map((run) => {
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
  const correlations: AnalyzedCorrelation[] = fieldCorrelations(runs, ['finalValidError', 'drop'], ['meanEigenvalue', 'finalEigenvalue']);
  return { runs, correlations, warnings };
}
