/**
 * Drop path (ScheduledDropPath, docs/search.md#drop-path-and-cutout-ramps): the regulariser both networks apply to op
 * outputs in train mode — every mixed edge in the search supernet, every op except Identity in
 * the evaluation network.
 */
import { bernoulli, tidy, zeros, type Device, type Tensor } from '../torch/index.js';
import { ConfigError } from '../errors.js';

/**
 * Per-sample drop path: each sample of x survives with probability keep = 1−p (libtorch's seeded
 * bernoulli) and survivors are scaled by 1/keep.
 */
export function dropPath(x: Tensor, p: number): Tensor {
  if (!(p > 0)) return x;
  if (p >= 1) throw new ConfigError(`drop path probability must be < 1, got ${p}`, 'use a drop path probability in [0, 1)');
  const keepProb = 1 - p;
  return tidy(() => {
    const like = zeros([x.shape[0]!, 1, 1, 1], { dtype: x.dtype, device: x.device as Device });
    const mask = bernoulli(like, keepProb);
    return x.div(keepProb).mul(mask);
  });
}
