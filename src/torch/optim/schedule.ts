import { Tensor } from '../tensor.js';
import { noGrad } from '../autograd.js';

/**
 * Cosine annealing in closed form: lr(e) = ηmin + ½(η0 − ηmin)(1 + cos(π·e/T)).
 * (PyTorch's CosineAnnealingLR computes the same curve recursively; the closed form avoids drift
 * and makes the rate a pure function of the epoch, which is what resume and rollback need.)
 */
export function cosineAnnealingLr(epoch: number, baseLr: number, tMax: number, etaMin = 0): number {
  return etaMin + 0.5 * (baseLr - etaMin) * (1 + Math.cos((Math.PI * epoch) / tMax));
}

/**
 * Clip the global L2 norm of the gradients of `params` to `maxNorm` (like
 * torch.nn.utils.clip_grad_norm_): scale by maxNorm/(total + 1e-6) when that is below 1.
 * Returns the total norm before clipping.
 */
export function clipGradNorm(params: Tensor[], maxNorm: number): number {
  return noGrad(() => {
    const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
    if (grads.length === 0) return 0;
    let sq = 0;
    for (const g of grads) {
      const n = g.norm(2);
      const v = n.item();
      n.dispose();
      sq += v * v;
    }
    const total = Math.sqrt(sq);
    const coef = maxNorm / (total + 1e-6);
    if (coef < 1) for (const g of grads) g.mul_(coef);
    for (const g of grads) g.dispose();
    return total;
  });
}
