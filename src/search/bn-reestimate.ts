/**
 * The accuracy drop after discretisation, measured two ways (docs/methods.md#discretisation-drop; docs/evaluation.md):
 *
 * - reference: the one-hot network evaluated with the batch-norm running statistics the
 *   supernet gathered under the softmax mixture (what RobustDARTS measures, and
 *   search/methods/discretization.ts reports). Those statistics describe a mixture of ops, not
 *   the chosen op alone, so the one-hot network often falls to chance;
 * - re-estimated: the same one-hot network after its batch-norm running statistics are
 *   re-estimated on a few training batches (forward passes in train mode with the one-hot
 *   weights, no gradient, cumulative average as PyTorch's momentum=None), then evaluated the same
 *   way. This separates "the weights do not fit the discrete cell" from "the statistics do not".
 *
 * Pure: tensors in, numbers out. The supernet's buffers, mode, drop path and libtorch's generator
 * are restored afterwards, so the measurement changes nothing.
 */
import { BatchNorm2d, Module, getRngState, noGrad, setRngState, tidy, type Tensor } from '../torch/index.js';
import type { Genotype, Network } from '../nas/index.js';
import type { Batch } from './architect.js';
import { evaluateSupernet } from './evaluate.js';
import type { EvalResult } from './plugin.js';

export interface DiscretizationBoth {
  soft: EvalResult;
  /** one-hot, batch-norm statistics of the mixture (reference) */
  discrete: EvalResult;
  /** one-hot, batch-norm statistics re-estimated for the one-hot network */
  discreteReestimated: EvalResult;
  /** soft.acc − discrete.acc */
  drop: number;
  /** soft.acc − discreteReestimated.acc */
  dropReestimated: number;
  /** training images the statistics were re-estimated on */
  bnImages: number;
}

/** Run `fn` and put every buffer of `model` back as it was (copies taken before). */
export function withRestoredBuffers<T>(model: Module, fn: () => T): T {
  const saved = noGrad(() => [...model.namedBuffers()].map(([, b]) => [b, b.clone()] as [Tensor, Tensor]));
  try {
    return fn();
  } finally {
    noGrad(() => {
      for (const [b, copy] of saved) {
        b.copy_(copy);
        copy.dispose();
      }
    });
  }
}

/**
 * Re-estimate every tracked batch-norm's running mean and variance from `batches` with
 * `forward` in train mode: batch t (from 0) enters with momentum 1/(t+1), so the result is the
 * plain average of the batch statistics (PyTorch's momentum=None). Momentum and mode are restored.
 */
export function reestimateBatchNorm(model: Module, batches: Iterable<Batch>, forward: (b: Batch) => void): number {
  const bns = model.modules().filter((m): m is BatchNorm2d => m instanceof BatchNorm2d && m.trackRunningStats);
  const momenta = bns.map((b) => b.momentum);
  const wasTraining = model.training;
  let t = 0;
  let images = 0;
  model.train();
  try {
    for (const b of batches) {
      for (const bn of bns) (bn as { momentum: number }).momentum = 1 / (t + 1);
      noGrad(() => tidy(() => forward(b)));
      images += b.y.shape[0]!;
      t++;
    }
  } finally {
    bns.forEach((bn, i) => ((bn as { momentum: number }).momentum = momenta[i]!));
    model.train(wasTraining);
  }
  return images;
}

/**
 * Soft, one-hot (reference) and one-hot with re-estimated batch-norm statistics, on the same
 * validation batches; `bnBatches` are training batches (tensors owned by the caller).
 */
export function discretizationDropBoth(model: Network, genotype: Genotype, valBatches: Batch[], bnBatches: Batch[]): DiscretizationBoth {
  const soft = evaluateSupernet(model, valBatches, 'soft');
  const discrete = evaluateSupernet(model, valBatches, genotype);
  const rng = getRngState();
  const dropPath = model.dropPathProb;
  let bnImages = 0;
  let discreteReestimated: EvalResult;
  try {
    model.dropPathProb = 0;
    discreteReestimated = withRestoredBuffers(model, () => {
      bnImages = reestimateBatchNorm(model, bnBatches, (b) => {
        const w = model.discreteWeights(genotype);
        model.forward(b.x, { weights: w });
      });
      return evaluateSupernet(model, valBatches, genotype);
    });
  } finally {
    model.dropPathProb = dropPath;
    setRngState(rng);
  }
  return { soft, discrete, discreteReestimated, drop: soft.acc - discrete.acc, dropReestimated: soft.acc - discreteReestimated.acc, bnImages };
}
