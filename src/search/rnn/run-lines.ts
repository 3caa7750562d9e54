/**
 * What a recurrent-cell search writes (docs/lm.md#run-folders): its own epoch line (perplexity
 * instead of accuracy), genotype line (the RNN genotype and softmax(α) [36, 5]) and result
 * record; the Hessian, early-stop, ADA and divergence lines are the CNN search's
 * (search/run-lines.ts). `experiments/lm-format.ts` holds the readers' schemas and checks at
 * compile time that these types fit them. Field names are the on-disk format.
 */
import type { RnnGenotypeJSON } from '../../nas/rnn/genotype.js';
import type { AdaIgnoreLine, AdaRollbackLine, DartsEsGenotypeLine, DivergedLine, EarlyStopCheckLine, EarlyStopLine, HessianLine } from '../run-lines.js';

/** Mean cross-entropy per predicted token (nats) and its perplexity exp(loss). */
export type LossPpl = {
  loss: number;
  ppl: number;
};

export type RnnEpochLine = {
  kind: 'epoch';
  epoch: number;
  iteration: number;
  /** the base weight learning rate (each batch uses lr · seq_len / bptt) */
  lr: number;
  /** weight decay in force (DARTS-ADA raises it) */
  l2: number;
  /** weight steps taken and training tokens predicted in this epoch */
  steps: number;
  tokens: number;
  /** token-weighted mean of the weight steps' cross-entropy (before AR/TAR) */
  train: LossPpl;
  /** the validation stream in eval mode, batch evalBatchSize, BPTT bptt */
  valid: LossPpl;
  seconds: number;
};

/** Every line of a recurrent search's metrics.jsonl. */
export type RnnMetricsLine = RnnEpochLine | HessianLine | EarlyStopCheckLine | EarlyStopLine | AdaRollbackLine | AdaIgnoreLine | DartsEsGenotypeLine | DivergedLine;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A line as a plug-in logs it (the trainer fills in epoch and iteration). */
export type RnnEpochLogLine = DistributiveOmit<RnnMetricsLine, 'epoch' | 'iteration'> & { epoch?: number };

/** One line of genotypes.jsonl. */
export type RnnGenotypeLine = {
  epoch: number;
  iteration: number;
  space: 'rnn';
  genotype: RnnGenotypeJSON;
  repr: string;
  /** softmax(α), one row per edge [36][5] */
  alphas: number[][];
  /** α's column order */
  ops: string[];
};

/** result.json of a recurrent search. */
export type RnnSearchResultRecord = {
  space: 'rnn';
  genotype: RnnGenotypeJSON;
  repr: string;
  stopReason: 'completed' | 'early-stop';
  stopDetail: string | null;
  genotypeEpoch: number;
  epochsRun: number;
  iterations: number;
  finalValid: LossPpl | null;
  l2: number;
  runDir: string | null;
};
