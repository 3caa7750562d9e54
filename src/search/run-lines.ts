/**
 * What a search writes to its run's logs, as TypeScript types: one type per metrics-line kind
 * (metrics.jsonl), the genotype line (genotypes.jsonl) and the result record (result.json).
 * The trainer and the method plug-ins write exactly these; `experiments/run-format.ts` holds
 * the zod schema of each (the readers' view, tolerant of older files) and checks at compile
 * time that every type here is accepted by its schema, so writers and readers cannot drift.
 *
 * Field names are the on-disk format: they stay as they are (older run folders must keep reading).
 */
import type { GenotypeJSON } from '../nas/genotype-json.js';

/** Loss and accuracy of one pass (train or validation). */
export type LossAcc = {
  loss: number;
  acc: number;
};

/** One measurement of the dominant α-Hessian eigenvalue (the Hessian monitor's output). */
export type HessianMeasurement = {
  epoch: number;
  maxEigenvalue: number;
  minEigenvalue: number | null;
  eigenvalues: number[];
  /** standard error of maxEigenvalue over batches (null with one batch) */
  stderr: number | null;
  batches: number;
  method: 'lanczos' | 'full';
  shift: number;
  operatorCalls: number;
  seconds: number;
};

/** Fields every metrics line carries: the epoch it belongs to and the DARTS-ADA iteration. */
type LineBase = {
  epoch: number;
  iteration: number;
};

export type EpochLine = LineBase & {
  kind: 'epoch';
  lr: number;
  /** weight decay of the weight optimiser during this epoch (DARTS-ADA raises it) */
  l2: number;
  dropPath: number;
  cutoutProb: number;
  train: LossAcc;
  valid: LossAcc;
  seconds: number;
};

export type HessianLine = LineBase & HessianMeasurement & {
  kind: 'hessian';
  /** λ_max of each batch, when more than one was measured */
  perBatch?: number[] | undefined;
};

export type EarlyStopCheckLine = LineBase & {
  kind: 'early-stop-check';
  rule: string;
  ratio: number;
  current: number;
  previous: number;
  fired: boolean;
  stopEpoch: number;
};

export type EarlyStopLine = LineBase & {
  kind: 'early-stop';
  rule: string;
  detectEpoch: number;
  stopEpoch: number;
  repr: string | null;
};

export type AdaRollbackLine = LineBase & {
  kind: 'ada';
  action: 'rollback';
  toEpoch: number;
  previousL2: number;
  newL2: number;
  reason: string;
};

/** DARTS-ADA saw the rule fire but its L2 is final (or it ran out of rollbacks): no rollback. */
export type AdaIgnoreLine = LineBase & {
  kind: 'ada';
  action: 'ignore';
  reason: string;
  l2: number;
};

/** DARTS-ADA's first rollback: the genotype DARTS-ES would have returned. */
export type DartsEsGenotypeLine = LineBase & {
  kind: 'darts-es-genotype';
  stopEpoch: number;
  repr: string | null;
};

export type DivergedLine = LineBase & {
  kind: 'diverged';
  step: number;
  /** the non-finite loss as text ('NaN', 'Infinity'): JSON has no such numbers */
  loss: string;
  lr: number;
};

export type RswsCandidate = {
  rank: number;
  sample: number;
  scoreError: number;
  fullError: number;
  repr: string;
  genotype: GenotypeJSON;
};

export type RswsSelectionLine = LineBase & {
  kind: 'rsws-selection';
  samples: number;
  scoreBatches: number;
  fullImages: number;
  trainDraws: number;
  top: RswsCandidate[];
  chosen: { rank: number; sample: number; fullError: number };
  seconds: number;
};

export type DiscretizationLine = LineBase & {
  kind: 'discretization';
  softAcc: number;
  discreteAcc: number;
  drop: number;
  softLoss: number;
  discreteLoss: number;
  genotype: GenotypeJSON;
  seconds: number;
};

/** Per cell type (normal, reduce). */
export type PerCellValues = { normal: number; reduce: number };

/** The collapse monitor's indicators of one epoch (search/methods/collapse-metrics.ts). */
export type CollapseLine = LineBase & {
  kind: 'collapse';
  /** mean over edges of softmax(α) on none, noise, skip_connect, max/avg pools */
  paramFreeMass: PerCellValues;
  /** mean over edges of the entropy of softmax(α), nats */
  entropy: PerCellValues;
  /** skip_connect genes of the derived cells */
  skips: PerCellValues;
  /** genes changed since the previous epoch's genotype (null at an iteration's first epoch) */
  churn: PerCellValues | null;
  /** train accuracy − validation accuracy (fractions) */
  accGap: number | null;
};

/** S5: the test regret of a genotype against the ground-truth table (search/methods/s5-regret.ts). */
export type S5RegretLine = LineBase & {
  kind: 's5-regret';
  /** 'derived' = this epoch's genotype; 'shared-best' = RS-ws: this epoch's best genotype of the space under the shared weights; 'selected' = RS-ws's final choice */
  source: 'derived' | 'shared-best' | 'selected';
  /** the genotype's key in the table (null when the table lacks it) */
  key: string | null;
  testError: number | null;
  bestTestError: number | null;
  regret: number | null;
  rank: number | null;
  /** the table holds all 81 genotypes */
  complete: boolean;
  /** 1 − validation accuracy of the supernet with softmax(α) */
  oneShotValidError: number | null;
};

/** Every line of metrics.jsonl. */
export type MetricsLine =
  | EpochLine
  | HessianLine
  | EarlyStopCheckLine
  | EarlyStopLine
  | AdaRollbackLine
  | AdaIgnoreLine
  | DartsEsGenotypeLine
  | DivergedLine
  | RswsSelectionLine
  | DiscretizationLine
  | CollapseLine
  | S5RegretLine;

export type MetricsKind = MetricsLine['kind'];

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * A line as a plug-in logs it during an epoch: the trainer fills in `epoch` and `iteration`
 * (a plug-in may give `epoch`; the trainer's value wins).
 */
export type EpochLogLine = DistributiveOmit<MetricsLine, 'epoch' | 'iteration'> & { epoch?: number };

/** A line as a plug-in logs it at the search's end: the trainer fills in `iteration`. */
export type EndLogLine = DistributiveOmit<MetricsLine, 'iteration'>;

/** One line of genotypes.jsonl: the genotype and softmax(α) after an epoch. */
export type GenotypeLine = LineBase & {
  genotype: GenotypeJSON;
  repr: string;
  /** softmax(α), one row per edge */
  alphas: { normal: number[][]; reduce: number[][] };
  /** op names per edge, the shape of `alphas` */
  ops: { normal: string[][]; reduce: string[][] };
};

/** What a finished search reports, in memory (SearchResult) and in result.json alike. */
export interface SearchOutcome {
  repr: string;
  stopReason: 'completed' | 'early-stop';
  /** epoch whose genotype is returned */
  genotypeEpoch: number;
  epochsRun: number;
  finalValid: LossAcc | null;
  iterations: number;
  /** the recorder's location (the run folder), null in memory */
  runDir: string | null;
}

/** result.json of a single search (the plug-ins' end-of-search fields are merged in at top level). */
export type SearchResultRecord = SearchOutcome & {
  genotype: GenotypeJSON;
  /** why an early stop stopped (null when completed) */
  stopDetail: string | null;
  /** weight decay in force at the end (DARTS-ADA raises it) */
  l2: number;
  [extra: string]: unknown;
};
