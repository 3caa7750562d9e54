import { F, noGrad, tidy } from '../torch/index.js';
import type { Network } from '../nas/supernet.js';
import type { Genotype } from '../nas/genotype.js';
import type { Batch } from './architect.js';
import type { EvalResult, EvalWeights } from './plugin.js';

/**
 * Loss and accuracy of the supernet on batches, in eval mode (batch-norm running statistics),
 * without gradients. Edge weights: softmax(α) ('soft' / undefined), the one-hot α of a genotype,
 * or explicit per-edge values. `batches` yields tensors created in the caller's scope or made on
 * demand; each batch's tensors are freed after use when `owned` is true.
 */
export function evaluateSupernet(model: Network, batches: Iterable<Batch>, weights?: EvalWeights, owned = false): EvalResult {
  const wasTraining = model.training;
  model.eval();
  let lossSum = 0;
  let correct = 0;
  let count = 0;
  try {
    noGrad(() =>
      tidy(() => {
        const w =
          weights === undefined || weights === 'soft'
            ? undefined
            : 'normalConcat' in weights
              ? model.discreteWeights(weights as Genotype)
              : model.weightsFromValues(weights);
        for (const b of batches) {
          tidy(() => {
            const logits = w ? model.forward(b.x, { weights: w }) : model.forward(b.x);
            const n = b.y.shape[0]!;
            lossSum += F.crossEntropy(logits, b.y).item() * n;
            correct += logits.argmax(1).eq(b.y).sum().item();
            count += n;
            if (owned) {
              b.x.dispose();
              b.y.dispose();
            }
          });
        }
      }),
    );
  } finally {
    model.train(wasTraining);
  }
  return { loss: lossSum / count, acc: correct / count, n: count };
}
