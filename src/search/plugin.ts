/**
 * Plug-ins observe and steer a search on one clock: epoch start, epoch end. A method is the
 * bilevel trainer plus plug-ins (darts-es = darts + Hessian monitor + early stop; darts-ada =
 * darts + Hessian monitor + adaptive L2; rdarts-dp = darts + drop-path/cutout ramps).
 * A plug-in's state goes into every checkpoint, so resume and rollback restore it.
 */
import type { Genotype } from '../nas/genotype.js';
import type { ArchWeights } from '../nas/alpha.js';
import type { Network } from '../nas/supernet.js';
import type { Batch } from './architect.js';
import type { EndLogLine, EpochLogLine, HessianMeasurement } from './run-lines.js';

export type { HessianMeasurement };

/**
 * Edge weights for a validation pass: softmax(α) ('soft'), the one-hot weights of a genotype,
 * or explicit per-edge values (one row per edge with that edge's op count), used as given.
 */
export type EvalWeights = 'soft' | Genotype | { normal: number[][]; reduce: number[][] };

export interface EvalResult {
  loss: number;
  acc: number;
  /** images evaluated */
  n: number;
}

/** What a plug-in can see and set at the epoch boundaries. */
export interface EpochContext {
  epoch: number;
  epochs: number;
  /** DARTS-ADA restart count (0 before the first rollback) */
  iteration: number;
  /** current weight decay of the weight optimiser (ADA raises it) */
  l2: number;
  /** set by the Hessian monitor at this epoch's end, if it measured */
  hessian: HessianMeasurement | null;
  genotype: Genotype | null;
  /** set by an early-stop rule in 'signal' mode when it fires at this epoch */
  earlyStop: { detectEpoch: number; stopEpoch: number; rule: string } | null;
  model: Network;
  /** this epoch's training loss and accuracy (running mean over its weight steps), set before the plug-ins run */
  train: { loss: number; acc: number } | null;
  /** this epoch's validation result with softmax(α), computed before the plug-ins run */
  valid: { loss: number; acc: number } | null;
  /** eval-mode, no-grad pass over the validation split (at most `evalBatches` batches) with these edge weights */
  evaluate(weights?: EvalWeights): EvalResult;
  /** a random validation batch (train transform, as the reference), created in the caller's scope */
  valBatch(): Batch;
  /** genotype recorded after epoch e (this iteration's history) */
  genotypeAt(e: number): Genotype | null;
  /** append a line to metrics.jsonl (the trainer adds this epoch and the iteration) */
  log(line: EpochLogLine): void;
  /** print a human-readable note (progress display) */
  note(message: string): void;
}

export type PluginDecision =
  | { action: 'continue' }
  | { action: 'stop'; reason: string; genotypeEpoch: number }
  | { action: 'rollback'; toEpoch: number; l2: number; reason: string };

export interface EpochStartControls {
  /** drop-path probability for this epoch's training passes */
  dropPath: number;
  /** cutout probability for this epoch's batches (0 = off) */
  cutoutProb: number;
}

/** What a plug-in can see after the last epoch (or an early stop). */
export interface SearchEndContext {
  /** epochs completed */
  epochsRun: number;
  /** the genotype the trainer would return (final α, or the early-stop epoch's) */
  genotype: Genotype;
  model: Network;
  seed: number;
  batchSize: number;
  /** dataset indices of the validation split */
  validationIndices: Int32Array;
  /**
   * Eval-mode, no-grad pass with these edge weights over `batches` (dataset indices, no
   * augmentation), by default the validation split in order (at most `evalBatches` batches).
   */
  evaluate(weights?: EvalWeights, batches?: Iterable<ArrayLike<number>>): EvalResult;
  /** append a line to metrics.jsonl (the trainer adds the iteration) */
  log(line: EndLogLine): void;
  note(message: string): void;
}

export interface SearchEndOutput {
  /** replaces the returned genotype (RS-ws: the selected architecture) */
  genotype?: Genotype;
  /** fields added to result.json (and to SearchResult.details) */
  result?: Record<string, unknown>;
}

export interface SearchPlugin {
  readonly name: string;
  /** Adjust the controls for epoch `ctx.epoch` (called before its first step). */
  onEpochStart?(ctx: EpochContext, controls: EpochStartControls): void;
  /** After validation and genotype; may measure (Hessian) and decide (stop / rollback). */
  onEpochEnd?(ctx: EpochContext): Promise<PluginDecision | void> | PluginDecision | void;
  /**
   * Edge weights for the next training step's forward, used as given (no softmax), created in
   * the caller's scope; null = softmax(α). RS-ws samples a one-hot architecture here; SDARTS
   * perturbs softmax(α) (ADV needs `batch`, the step's training batch). The architecture step
   * never uses them.
   */
  weightsForStep?(model: Network, batch: Batch): ArchWeights | null;
  /** After the last epoch (or an early stop), before result.json: may replace the genotype and add result fields. */
  onSearchEnd?(ctx: SearchEndContext): Promise<SearchEndOutput | void> | SearchEndOutput | void;
  /** JSON-able state for checkpoints. */
  getState?(): unknown;
  setState?(state: unknown): void;
  /** On a rollback, true: restore this plug-in's state from the target checkpoint; false: keep it (ADA's own schedule). */
  readonly restoreOnRollback?: boolean;
}
