/**
 * The typed records of one search run that reports, comparisons and analyses are built from:
 * what a run folder's config.json, metrics.jsonl, genotypes.jsonl and result.json hold after
 * validation, with defaults filled in. Types only: `experiments/run-reader` produces them from
 * a folder; everything under `analysis/report` consumes them and never opens a file.
 */
import type { Genotype } from '../../nas/genotype.js';

export interface SplitMetrics {
  loss: number | null;
  acc: number | null;
}

/** One `epoch` line of metrics.jsonl. */
export interface EpochRecord {
  epoch: number;
  iteration: number;
  lr: number | null;
  l2: number | null;
  dropPath: number | null;
  train: SplitMetrics;
  /** the held-out split measured after the epoch: `valid` holds it ('test' for a training measured on the test split) */
  valid: SplitMetrics;
  evalSplit: 'validation' | 'test';
  seconds: number | null;
  line: number;
}

/**
 * One `hessian` line of metrics.jsonl: the eigenvalues logged for a Hessian measurement (the
 * search's live measurement is `search/plugin`'s `HessianMeasurement`; a record that may carry
 * the matrix itself is `analysis/trace`'s `HessianRecord`).
 */
export interface EigenvalueRecord {
  epoch: number;
  iteration: number;
  maxEigenvalue: number;
  /** Top-k eigenvalues, descending (may be empty). */
  eigenvalues: number[];
  minEigenvalue: number | null;
  method: string | null;
  shift: number;
  line: number;
}

/** One `early-stop` line of metrics.jsonl. */
export interface EarlyStopEvent {
  epoch: number;
  rule: string | null;
  detectEpoch: number | null;
  stopEpoch: number | null;
  iteration: number;
  line: number;
}

/**
 * One DARTS-ADA rollback as logged (an `ada` line with action "rollback"; an ignored trigger is
 * not one). The controller's own history entry is `search/methods/ada-controller`'s
 * `AdaTriggerRecord`.
 */
export interface AdaRollbackRecord {
  epoch: number;
  action: string;
  toEpoch: number;
  previousL2: number | null;
  newL2: number | null;
  /** Iteration the run continues with after this rollback (1 after the first). */
  iteration: number;
  line: number;
}

/** One `discretization` line of metrics.jsonl. */
export interface DiscretizationRecord {
  epoch: number;
  iteration: number;
  softAcc: number | null;
  discreteAcc: number | null;
  drop: number | null;
  line: number;
}

/** One `collapse` line of metrics.jsonl (missing values null). */
export interface CollapseRecord {
  epoch: number;
  iteration: number;
  paramFreeMass: { normal: number | null; reduce: number | null };
  entropy: { normal: number | null; reduce: number | null };
  skips: { normal: number | null; reduce: number | null };
  churn: { normal: number | null; reduce: number | null } | null;
  accGap: number | null;
  line: number;
}

/** One `s5-regret` line of metrics.jsonl. */
export interface S5RegretRecord {
  epoch: number;
  iteration: number;
  source: string | null;
  key: string | null;
  regret: number | null;
  testError: number | null;
  oneShotValidError: number | null;
  line: number;
}

export interface CellAlphas {
  /** Softmax weights, one row per edge. */
  weights: number[][];
  /** Op names per edge (same shape as `weights`), or null when neither the line nor the space gives them. */
  ops: string[][] | null;
  /** True when the logged rows were not probabilities and were put through a softmax here. */
  softmaxApplied: boolean;
}

/** One line of genotypes.jsonl. */
export interface GenotypeRecord {
  epoch: number;
  iteration: number;
  genotype: Genotype;
  repr: string;
  alphas: { normal: CellAlphas; reduce: CellAlphas } | null;
  line: number;
}

/** result.json. */
export interface RunResult {
  genotype: Genotype | null;
  repr: string | null;
  stopReason: string | null;
  epochs: number | null;
  raw: Record<string, unknown>;
}

/** The records of a run's metrics.jsonl, by kind. */
export interface RunMetrics {
  epochs: EpochRecord[];
  hessians: EigenvalueRecord[];
  earlyStops: EarlyStopEvent[];
  adaEvents: AdaRollbackRecord[];
  discretizations: DiscretizationRecord[];
  /** the collapse monitor's lines (empty for runs without it) */
  collapses: CollapseRecord[];
  /** S5 test regret lines (runs given a ground-truth table) */
  regrets: S5RegretRecord[];
}

/** A whole run folder, parsed. */
export interface Run extends RunMetrics {
  dir: string;
  name: string;
  config: Record<string, unknown>;
  genotypes: GenotypeRecord[];
  result: RunResult | null;
  /** Things skipped or assumed while reading (unknown kinds, a partial last line, a missing optional file). */
  warnings: string[];
}
